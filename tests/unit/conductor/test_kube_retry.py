"""The conductor's failover retry policy, over real loopback sockets with urllib3."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest
import urllib3
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, SSLError

from sysinv_conductor.kube.retry import failover_retry, retryable
from tests.servers.ports import free_port


class Dropper(threading.Thread):
    """A listener that reads each request and closes the connection without an answer,
    as a dying apiserver behind the endpoint does; counts the connections."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.recv(65536)


@pytest.fixture
def dropper() -> Iterator[Dropper]:
    server = Dropper()
    server.start()
    yield server
    server.sock.close()


def _pool(window: float) -> urllib3.PoolManager:
    return urllib3.PoolManager(retries=failover_retry(window), timeout=2)


def test_idempotent_calls_are_sent_again_until_the_window_ends(
    dropper: Dropper, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="sysinv_conductor.kube.retry")
    started = time.monotonic()
    with pytest.raises(MaxRetryError) as failed:
        _pool(0.8).request("PATCH", f"http://127.0.0.1:{dropper.port}/api/v1/nodes/n")
    took = time.monotonic() - started
    assert isinstance(failed.value.reason, ProtocolError)
    assert dropper.connections >= 3  # sent again, with backoff, for the whole window
    assert 0.8 <= took < 3.0
    # Logged once per call, not once per attempt.
    [logged] = [r.getMessage() for r in caplog.records if r.name.endswith("kube.retry")]
    assert "sending PATCH /api/v1/nodes/n again for up to 0.8 s" in logged


def test_a_create_is_never_sent_twice(dropper: Dropper) -> None:
    with pytest.raises(MaxRetryError) as failed:
        _pool(5).request("POST", f"http://127.0.0.1:{dropper.port}/api/v1/namespaces")
    assert isinstance(failed.value.reason, ProtocolError)
    assert dropper.connections == 1


def test_a_refused_connection_is_retried_whatever_the_method() -> None:
    port = free_port()
    server: list[socket.socket] = []

    def listen_late() -> None:  # the endpoint comes back 0.5 s later, and answers
        sock = socket.create_server(("127.0.0.1", port))
        server.append(sock)
        conn, _ = sock.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
            )

    timer = threading.Timer(0.5, listen_late)
    timer.start()
    try:
        answer = _pool(5).request("POST", f"http://127.0.0.1:{port}/api/v1/namespaces")
    finally:
        timer.join()
        for sock in server:
            sock.close()
    assert answer.status == 201


def test_no_window_no_retry(dropper: Dropper) -> None:
    with pytest.raises(MaxRetryError):
        _pool(0).request("GET", f"http://127.0.0.1:{dropper.port}/api/v1/nodes")
    assert dropper.connections == 1


def test_what_counts_as_a_dropped_connection() -> None:
    refused = NewConnectionError(None, "refused")  # type: ignore[arg-type]
    reset = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    eof = SSLError(ssl.SSLEOFError(8, "EOF occurred in violation of protocol"))
    untrusted = SSLError(ssl.SSLCertVerificationError(1, "certificate verify failed"))
    assert retryable(refused, "POST") and retryable(refused, "GET")
    assert retryable(reset, "PATCH") and retryable(eof, "get")
    assert not retryable(reset, "POST") and not retryable(eof, "POST")
    assert not retryable(untrusted, "GET")
    assert not retryable(urllib3.exceptions.ReadTimeoutError(None, "/", "timed out"), "GET")  # type: ignore[arg-type]
