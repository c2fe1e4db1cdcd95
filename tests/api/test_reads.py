"""Reads at scale: GETs beside a running write."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from tests.stack import Stack


def test_a_read_proceeds_while_a_write_holds_the_lock(api: Stack) -> None:
    """On SQLite a writing transaction holds the database's write lock (BEGIN IMMEDIATE)
    until it ends; GETs must not wait for it (on PostgreSQL they never did)."""
    host = api.add_host("worker-0")
    locked, release = threading.Event(), threading.Event()

    def writer() -> None:
        with api.db.session() as s:
            s.execute(text("UPDATE hosts SET console = 'ttyS0' WHERE id = :i"), {"i": host["id"]})
            locked.set()
            assert release.wait(30)

    with ThreadPoolExecutor(2) as pool:
        held = pool.submit(writer)
        assert locked.wait(10)
        try:
            reads = [
                pool.submit(api.client.get, path)
                for path in (f"/v1/ihosts/{host['uuid']}", "/v1/ihosts", "/v1/isystems")
            ]
            answers = [r.result(timeout=5) for r in reads]
        finally:
            release.set()
        held.result(timeout=30)
    assert [a.status_code for a in answers] == [200, 200, 200]
    # The reads saw the state before the write committed.
    assert answers[0].json()["console"] is None


def test_a_read_session_refuses_to_write(api: Stack) -> None:
    host = api.add_host("worker-0")
    from sysinv_common.db.queries.hosts import find_host

    with pytest.raises(RuntimeError, match="read-only"), api.db.read_session() as s:
        find_host(s, host["uuid"]).console = "ttyS0"
        s.flush()
    assert api.client.get(f"/v1/ihosts/{host['uuid']}").json()["console"] is None


def test_host_answers_are_built_once(api: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The handlers build the answer of their response model's shape: FastAPI must not
    validate it again (its serialize_response) before sending it."""
    import fastapi.routing

    host = api.add_host("worker-0")
    seen: list[str] = []
    original = fastapi.routing.serialize_response

    async def counting(*args: object, **kwargs: object) -> object:
        field = kwargs.get("field")
        seen.append(str(getattr(field, "name", field)))
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fastapi.routing, "serialize_response", counting)
    listed = api.client.get("/v1/ihosts")
    shown = api.client.get(f"/v1/ihosts/{host['uuid']}")
    assert seen == []
    assert listed.headers["content-type"] == shown.headers["content-type"] == "application/json"
    assert [h["uuid"] for h in listed.json()["ihosts"]] == [shown.json()["uuid"]]
    assert set(listed.json()["ihosts"][0]) == set(shown.json()) == set(host)
