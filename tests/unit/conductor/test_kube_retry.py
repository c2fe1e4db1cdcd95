"""The conductor's failover retry policy, over real loopback sockets with urllib3."""

from __future__ import annotations

import json
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


class Answers(threading.Thread):
    """An HTTP listener answering each request with the next of ``answers`` (status, JSON
    message), then 200; counts the requests."""

    def __init__(self, answers: list[tuple[int, str]]) -> None:
        super().__init__(daemon=True)
        self.answers = list(answers)
        self.requests = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                self.requests += 1
                status, message = self.answers.pop(0) if self.answers else (200, "ok")
                body = json.dumps({"kind": "Status", "message": message, "code": status})
                conn.sendall(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}".encode()
                )


@pytest.fixture
def answers(request: pytest.FixtureRequest) -> Iterator[Answers]:
    server = Answers(request.param)
    server.start()
    yield server
    server.sock.close()


ETCD_TIMEOUT = (500, "etcdserver: request timed out, possibly due to previous leader failure")


@pytest.mark.parametrize("answers", [[ETCD_TIMEOUT, (500, "etcdserver: leader changed")]],
                         indirect=True)  # fmt: skip
def test_etcd_without_a_leader_is_waited_out(answers: Answers) -> None:
    answer = _pool(5).request("PATCH", f"http://127.0.0.1:{answers.port}/api/v1/nodes/n")
    assert answer.status == 200
    assert answers.requests == 3


@pytest.mark.parametrize("answers", [[ETCD_TIMEOUT]], indirect=True)
def test_etcd_errors_of_a_create_are_answers(answers: Answers) -> None:
    answer = _pool(5).request("POST", f"http://127.0.0.1:{answers.port}/api/v1/namespaces")
    assert answer.status == 500
    assert "request timed out" in answer.data.decode()
    assert answers.requests == 1


@pytest.mark.parametrize("answers", [[(500, "Internal error occurred: something else")]],
                         indirect=True)  # fmt: skip
def test_other_server_errors_come_back_whole_at_once(answers: Answers) -> None:
    answer = _pool(5).request(
        "GET", f"http://127.0.0.1:{answers.port}/api/v1/nodes", preload_content=False
    )
    assert answer.status == 500
    assert json.loads(answer.data)["message"] == "Internal error occurred: something else"
    assert answers.requests == 1
