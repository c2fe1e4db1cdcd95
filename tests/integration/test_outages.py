"""Redis and PostgreSQL outages under load, against real ``sysinv-api`` and
``sysinv-conductor`` processes.

- The conductor lives through Redis restarts (kombu used to fail closing the lost
  connection and Celery's worker stopped for good, exit status 0); every write is either
  done or answered 503.
- A conductor whose broker loop fails for good exits non-zero, for systemd to restart it.
- During an outage of either server, over one keep-alive connection: every answer is a 2xx
  or a 503 with Retry-After in sysinv's error format, the connection is never closed, and
  each process logs the outage twice (down, back), never once per request.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from kombu import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import select

from sysinv_common.agent_proof import encode_key
from sysinv_common.conf import Settings
from sysinv_common.db.models import Host, Label
from sysinv_common.db.prepare import prepare_database
from sysinv_common.messaging.app import make_celery
from sysinv_common.messaging.client import ConductorClient
from sysinv_common.messaging.rpcapi import ConductorAPI
from tests.api.test_apps_requests import bundle_bytes, upload_body
from tests.servers.ports import free_port, wait_port
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer
from tests.stack import make_settings, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
BIN = Path(sys.executable).parent
#: A call whose message an outage lost is answered 503 after this many seconds.
CALL_TIMEOUT = 5
#: A log line's level and logger, as sysinv_common.logs writes them.
LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (?P<level>[A-Z]+) (?P<logger>[\w.]+): ")


class Service:
    """One ``sysinv-api`` or ``sysinv-conductor`` process, in a session of its own."""

    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.proc = subprocess.Popen(
            [str(BIN / command)], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def alive(self) -> bool:
        return self.proc.poll() is None

    def mark(self) -> int:
        return self.log.stat().st_size

    def lines_since(self, mark: int) -> list[str]:
        """The log lines written since ``mark``, a traceback's lines included."""
        with self.log.open("rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace").splitlines()

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; its exit status."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise


@dataclass
class Deployment:
    settings: Settings
    api: Service
    conductor: Service
    base: str
    host: dict[str, Any] = field(default_factory=dict)

    def written_labels(self) -> set[str]:
        db = prepare_database(self.settings)
        try:
            with db.session() as s:
                return set(
                    s.scalars(
                        select(Label.label_key).join(Host).where(Host.uuid == self.host["uuid"])
                    )
                )
        finally:
            db.dispose()


def service_env(settings: Settings, port: int) -> dict[str, str]:
    return dict(
        os.environ,
        SYSINV_STATE_DIR=str(settings.state_dir),
        SYSINV_DATABASE__URL=settings.database_url,
        SYSINV_MESSAGING__BROKER_URL=settings.messaging.broker_url,
        SYSINV_MESSAGING__QUEUE_PREFIX=settings.messaging.queue_prefix,
        SYSINV_MESSAGING__CALL_TIMEOUT=str(CALL_TIMEOUT),
        SYSINV_CONDUCTOR_ID="outage-conductor",
        SYSINV_API__PORT=str(port),
        SYSINV_API__AUTH="none",
    )


def wait_for_conductor(settings: Settings, conductor: Service) -> None:
    client = ConductorAPI(ConductorClient(make_celery(settings.messaging), 2))
    deadline = time.monotonic() + 60
    while True:
        assert conductor.alive(), conductor.log.read_text()[-3000:]
        try:
            assert client.ping().conductor_id == "outage-conductor"
            return
        except Exception:
            if time.monotonic() > deadline:
                raise


@contextmanager
def deployed(tmp_path: Path, database_url: str, broker_url: str) -> Iterator[Deployment]:
    """An API and a conductor on these servers, with one host; stopped at the end."""
    settings = make_settings(tmp_path / "state", database_url)
    settings.messaging.broker_url = broker_url
    prepare_database(settings).dispose()
    port = free_port()
    env = service_env(settings, port)
    conductor = Service("sysinv-conductor", env, tmp_path / "conductor.log")
    api = Service("sysinv-api", env, tmp_path / "api.log")
    try:
        wait_port(port, 60, "sysinv-api")
        wait_for_conductor(settings, conductor)
        # The conductor logs, as it starts, whether it runs the audits: before the tests'
        # marks, so that their outage lines are the outage's alone.
        deadline = time.monotonic() + 30
        while not any("the periodic audits" in x for x in conductor.lines_since(0)):
            assert time.monotonic() < deadline, "the conductor never claimed the audits' lease"
            time.sleep(0.1)
        deployment = Deployment(settings, api, conductor, f"http://127.0.0.1:{port}")
        r = httpx.post(
            f"{deployment.base}/v1/ihosts",
            json={"hostname": f"out-{uuid.uuid4().hex[:6]}", "personality": "worker"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        deployment.host = r.json()
        yield deployment
    finally:
        for service in (api, conductor):
            if service.alive():
                service.stop()


@dataclass
class Answer:
    what: str
    status: int
    retry_after: str | None
    body: str
    at: float


class Requests(threading.Thread):
    """Requests one after another over one keep-alive connection until stopped: label
    assigns (a conductor call, one new key each) and host reads (the API's database)."""

    def __init__(self, deployment: Deployment, name: str, reads: bool = True) -> None:
        super().__init__(name=f"requests-{name}", daemon=True)
        self.deployment = deployment
        self.prefix = name
        self.reads = reads
        self.answers: list[Answer] = []
        self.errors: list[BaseException] = []
        self.connections = 0
        self.stopping = threading.Event()

    def _trace(self, event: str, _info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            self.connections += 1

    def _request(self, client: httpx.Client, n: int) -> tuple[str, httpx.Response]:
        host = self.deployment.host["uuid"]
        ext = {"trace": self._trace}
        if self.reads and n % 2:
            return "read", client.get(f"/v1/ihosts/{host}", extensions=ext)
        key = f"{self.prefix}-{n}"
        r = client.post(f"/v1/labels/{host}?overwrite=False", json={key: "v"}, extensions=ext)
        return key, r

    def run(self) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(base_url=self.deployment.base, timeout=60, limits=limits) as client:
            n = 0
            while not self.stopping.is_set():
                n += 1
                try:
                    what, r = self._request(client, n)
                except httpx.HTTPError as exc:  # a dropped connection among them
                    self.errors.append(exc)
                    continue
                self.answers.append(
                    Answer(what, r.status_code, r.headers.get("retry-after"), r.text,
                           time.monotonic())
                )  # fmt: skip
                time.sleep(0.01)

    def succeeded_after(self, t: float) -> bool:
        return any(a.status == 200 and a.what != "read" and a.at > t for a in self.answers)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=CALL_TIMEOUT * 3)
        assert not self.is_alive()


def assert_2xx_or_503(answers: list[Answer]) -> list[Answer]:
    """Every answer is a 2xx, or a 503 with Retry-After in sysinv's error format; the 503s."""
    refused = []
    for a in answers:
        if 200 <= a.status < 300:
            continue
        assert a.status == 503, (a.what, a.status, a.body)
        assert a.retry_after == "5", a
        assert json.loads(json.loads(a.body)["error_message"])["faultstring"], a
        refused.append(a)
    return refused


def outage_lines(service: Service, mark: int) -> list[str]:
    """What ``service`` logged since ``mark``, but its per-request records (uvicorn's
    access log; Celery's "Task received" and the flows' lines on each task's success)."""
    per_request = ("uvicorn.access", "celery.worker.strategy", "sysinv_conductor.flows.")
    kept = []
    for line in service.lines_since(mark):
        m = LINE.match(line)
        if m and m["logger"].startswith(per_request) and m["level"] == "INFO":
            continue
        kept.append(line)
    return kept


def outage_of(
    server_down: Callable[[], None], server_up: Callable[[], None], seconds: float,
    deployment: Deployment, requests: list[Requests],
) -> tuple[float, float]:  # fmt: skip
    """``seconds`` of outage under ``requests``, and until a write went through after it;
    when the server went down, and when it was back."""
    time.sleep(0.5)  # a few answers before
    server_down()
    down = time.monotonic()
    time.sleep(seconds)
    server_up()
    back = time.monotonic()
    wait_until(
        "a write after the outage",
        lambda: any(r.succeeded_after(back) for r in requests) or not deployment.conductor.alive(),
        timeout=CALL_TIMEOUT * 6,
    )
    return down, back


# -- the conductor lives through Redis restarts ---------------------------------------


def test_the_conductor_lives_through_three_redis_restarts_under_writes(
    tmp_path: Path, postgres_db_url: str, redis_server: RedisServer
) -> None:
    with deployed(tmp_path, postgres_db_url, redis_server.url) as d:
        writers = [Requests(d, f"w{i}", reads=False) for i in range(3)]
        for w in writers:
            w.start()
        try:
            for _ in range(3):
                assert d.conductor.alive()
                outage_of(redis_server.down, redis_server.up, 1.0, d, writers)
        finally:
            if redis_server.proc is None:
                redis_server.up()
            for w in writers:
                w.stop()
        log = d.conductor.log.read_text()
        assert d.conductor.alive(), log[-5000:]
        assert "Unrecoverable error" not in log

        answers = [a for w in writers for a in w.answers]
        assert not [e for w in writers for e in w.errors]
        refused = assert_2xx_or_503(answers)
        assert refused, "no write met an outage"
        done = {a.what for a in answers if a.status == 200}
        assert len(done) > len(refused)
        assert done <= d.written_labels()

        # Both workers serve: a call, and an upload job on the apps queue.
        client = httpx.Client(base_url=d.base, timeout=30)
        r = client.post(f"/v1/labels/{d.host['uuid']}", json={"after": "restarts"})
        assert r.status_code == 200, r.text
        r = client.post("/v1/apps", json=upload_body(bundle_bytes()))
        assert r.status_code == 200, r.text
        app = wait_until(
            "the upload job to run",
            lambda: (a := client.get("/v1/apps/hello-app").json())["status"] != "uploading" and a,
            timeout=30,
        )
        assert app["status"] in ("uploaded", "upload-failed"), app

        # Asked to stop, it exits 0.
        assert d.conductor.stop() == 0


def test_a_conductor_whose_broker_loop_fails_exits_non_zero(
    tmp_path: Path, postgres_db_url: str
) -> None:
    """The broker refuses the worker's BRPOP (an ACL change): Celery gives the worker up
    ("Unrecoverable error"), and the process exits 1 for systemd to start it again."""
    broker = RedisServer().start()
    try:
        with deployed(tmp_path, postgres_db_url, broker.url) as d:
            redis.Redis.from_url(broker.url).execute_command("ACL", "SETUSER", "default", "-brpop")
            status = d.conductor.proc.wait(timeout=30)
            log = d.conductor.log.read_text()
            assert status == 1, log[-5000:]
            assert "Unrecoverable error" in log
            assert "worker stopped (exit code 1) without being asked to" in log
    finally:
        broker.stop()


def test_an_agent_whose_broker_loop_fails_exits_non_zero(tmp_path: Path) -> None:
    broker = RedisServer().start()
    try:
        key_file = tmp_path / "agent.key"
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(encode_key(os.urandom(32)))
        env = dict(
            os.environ,
            SYSINV_STATE_DIR=str(tmp_path / "state"),
            SYSINV_MESSAGING__BROKER_URL=broker.url,
            SYSINV_MESSAGING__QUEUE_PREFIX=f"t{uuid.uuid4().hex[:8]}.sysinv",
            SYSINV_MESSAGING__CALL_TIMEOUT="1",
            SYSINV_AGENT__HOSTNAME="lonely-node",
            SYSINV_AGENT__KEY_FILE=str(key_file),
            SYSINV_AGENT__ROOT=str(tmp_path / "root"),
            SYSINV_AGENT__RECORD_COMMANDS="true",
        )
        agent = Service("sysinv-agent", env, tmp_path / "agent.log")
        try:
            wait_until("the agent's worker", lambda: "ready." in agent.log.read_text(), 60)
            redis.Redis.from_url(broker.url).execute_command("ACL", "SETUSER", "default", "-brpop")
            status = agent.proc.wait(timeout=30)
            log = agent.log.read_text()
            assert status == 1, log[-5000:]
            assert "the agent's worker stopped (exit code 1) without being asked to" in log
        finally:
            if agent.alive():
                agent.stop()
    finally:
        broker.stop()


@pytest.mark.parametrize(
    ("transport", "error"),
    [("kombu.transport.redis:Transport", AttributeError), (None, RedisConnectionError)],
    ids=["kombu", "sysinv"],
)
def test_a_channel_of_a_lost_connection_fails_as_a_lost_connection(
    redis_url: str, transport: str | None, error: type[Exception]
) -> None:
    """What killed the conductor: kombu's Redis channel, once its connection is collected
    (as Celery's consumer does when Redis goes away), fails with ``AttributeError``, which
    Celery does not retry; sysinv's raises redis-py's ``ConnectionError``."""
    connection = Connection(redis_url, transport=transport)
    channel = connection.channel()
    channel.queue_declare(f"lost-{uuid.uuid4().hex[:6]}")
    connection.collect()
    with pytest.raises(error):
        channel.queue_purge("lost")


# -- outages are 503s over a connection that stays open ---------------------------------


def test_a_database_outage_is_a_503_on_a_connection_that_stays_open(
    tmp_path: Path, redis_url: str
) -> None:
    pg = PostgresServer().start()
    try:
        _, url = pg.create_database()
        with deployed(tmp_path, url, redis_url) as d:
            loop = Requests(d, "pg")
            loop.start()
            marks = (d.api.mark(), d.conductor.mark())
            try:
                outage_of(pg.down, pg.up, 3.0, d, [loop])
                time.sleep(0.5)
            finally:
                if pg.proc is None:
                    pg.up()
                loop.stop()
            assert not loop.errors
            assert loop.connections == 1
            refused = assert_2xx_or_503(loop.answers)
            faults = {json.loads(json.loads(a.body)["error_message"])["faultstring"]
                      for a in refused}  # fmt: skip
            assert faults == {"The database cannot be reached; try again in a few seconds"}
            # Reads (the API's own database) and writes (the conductor's) both met it.
            assert {a.what == "read" for a in refused} == {True, False}

            # The API logged it twice; so did the conductor, if a call reached it meanwhile
            # (the API refuses a label assign first when it cannot read the host).
            for service, mark in zip((d.api, d.conductor), marks, strict=True):
                lines = outage_lines(service, mark)
                if service is d.conductor and not lines:
                    continue
                assert len(lines) == 2, lines
                assert "ERROR sysinv_common.reachability: database unavailable" in lines[0]
                assert "INFO sysinv_common.reachability: database is back after" in lines[1]
    finally:
        pg.stop()


def test_a_broker_outage_is_a_503_on_a_connection_that_stays_open(
    tmp_path: Path, postgres_db_url: str
) -> None:
    broker = RedisServer().start()
    try:
        with deployed(tmp_path, postgres_db_url, broker.url) as d:
            loop = Requests(d, "redis")
            loop.start()
            mark = d.api.mark()
            try:
                down, back = outage_of(broker.down, broker.up, 3.0, d, [loop])
            finally:
                if broker.proc is None:
                    broker.up()
                loop.stop()
            assert not loop.errors
            assert loop.connections == 1
            refused = assert_2xx_or_503(loop.answers)
            assert refused and all(a.what != "read" for a in refused)
            # Reads went on meanwhile: the database was there.
            assert any(a.what == "read" and a.status == 200 and down < a.at < back
                       for a in loop.answers)  # fmt: skip

            lines = outage_lines(d.api, mark)
            assert len(lines) == 2, lines
            assert "ERROR sysinv_common.reachability: message broker unavailable" in lines[0]
            assert "INFO sysinv_common.reachability: message broker is back after" in lines[1]
            assert "Traceback" not in d.conductor.log.read_text()
    finally:
        broker.stop()
