"""The API served by a real uvicorn: an error answer never costs the client its
keep-alive connection, and ``sysinv-api`` exits non-zero when it stops on its own."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from sysinv_api.app import create_app
from sysinv_api.main import _serve
from sysinv_common.db.prepare import prepare_database
from sysinv_common.errors import DatabaseUnavailable
from tests.servers.ports import free_port, wait_port
from tests.stack import make_settings


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    settings = make_settings(tmp_path)
    db = prepare_database(settings)
    app = create_app(settings, db)

    @app.get("/v1/test-crash")
    def crash() -> None:
        raise RuntimeError("a bug")

    @app.get("/v1/test-outage")
    def outage() -> None:
        raise DatabaseUnavailable("The database cannot be reached; try again in a few seconds")

    try:
        yield app
    finally:
        db.dispose()


@pytest.fixture
def served(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_port(port, 30, "uvicorn")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def fault(r: httpx.Response) -> str:
    return str(json.loads(r.json()["error_message"])["faultstring"])


def test_an_error_answer_keeps_the_connection_and_logs_once(
    served: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    connections = 0

    def trace(event: str, _info: dict[str, Any]) -> None:
        nonlocal connections
        if event == "connection.connect_tcp.complete":
            connections += 1

    ext = {"trace": trace}
    with httpx.Client(base_url=served, timeout=10) as client:
        for _ in range(3):
            r = client.get("/v1/test-crash", extensions=ext)
            assert r.status_code == 500
            assert fault(r).startswith("Internal error (ref ")
            r = client.get("/v1/test-outage", extensions=ext)
            assert r.status_code == 503 and r.headers["retry-after"] == "5"
            assert fault(r) == "The database cannot be reached; try again in a few seconds"
            assert client.get("/v1", extensions=ext).status_code == 200
    assert connections == 1

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage().split(" failed ")[0] for r in errors] == [
        "request GET /v1/test-crash"
    ] * 3
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in errors)


def test_sysinv_api_tells_whether_it_was_asked_to_stop(app: FastAPI) -> None:
    """``_serve`` answers False (``main`` exits 1) when a server ends on its own."""

    def serve(server: uvicorn.Server, port: int, request: bool) -> bool:
        async def run() -> bool:
            task = asyncio.create_task(_serve([server]))
            while not server.started:
                await asyncio.sleep(0.02)
            if request:
                async with httpx.AsyncClient() as client:
                    await client.get(f"http://127.0.0.1:{port}/v1")
            else:
                server.should_exit = True  # what uvicorn's SIGTERM handler does
            return await asyncio.wait_for(task, 10)

        return asyncio.run(run())

    port = free_port()
    asked = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None))
    assert serve(asked, port, request=False) is True
    port = free_port()
    # A server that stops by itself: after its one allowed request.
    alone = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None, limit_max_requests=1))
    assert serve(alone, port, request=True) is False
