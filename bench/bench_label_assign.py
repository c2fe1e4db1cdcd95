"""Label assign throughput and latency against a ceiling, production and embedded mode.

Production round: a real ``sysinv-api`` and ``sysinv-conductor`` on PostgreSQL and Redis,
with the test Kubernetes control plane (kwok Nodes). Embedded round: ``sysinv aio`` (SQLite,
in-process broker) on the same cluster. Each is compared with a *ceiling* this benchmark
starts itself on the same database engine: a bare FastAPI + SQLAlchemy app that does the
same work for one assign (upsert the label row in one transaction, then patch the Node's
labels with the kubernetes client) and nothing else: no conductor hop, no ownership
annotation, no configuration target, no state machine.

C clients send W writes in all, each to one of H hosts with a key of its own (so any order
of application gives the same end state), the same writes to both sides. Before the
figures are printed, each side's database and Nodes are checked to hold exactly the
expected labels. Printed: throughput (writes/s) of each side and their ratio, and the
p50/p99 latency of each.

    python bench/bench_label_assign.py [--clients 16] [--writes 800] [--hosts 16]
                                       [--no-embedded]

Goals (issue 23): production at least 0.5x the ceiling's throughput, p99 under 100 ms at
16 clients on loopback; embedded mode was at 0.10x.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sysinv_common.db.models import Host, Label
from sysinv_common.db.prepare import prepare_database
from sysinv_common.states import host as host_states
from tests.servers import procs
from tests.servers.kube import KubeCluster, start_kube_cluster
from tests.servers.ports import free_port, wait_port
from tests.servers.postgres import PostgresServer
from tests.servers.procs import ManagedProcess
from tests.servers.redis import RedisServer
from tests.stack import make_settings

PREFIX = "bench.sysinv.io"

# -- the ceiling ---------------------------------------------------------------------------


def ceiling_app(db_url: str, kubeconfig: str) -> Any:
    """The least an assign can do: one upsert transaction, one Node patch."""
    from fastapi import Body, FastAPI, HTTPException
    from kubernetes import client, config
    from sqlalchemy import create_engine, event
    from sqlalchemy.dialects import postgresql, sqlite

    sqlite_db = db_url.startswith("sqlite")
    if sqlite_db:
        engine = create_engine(db_url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA busy_timeout=30000")

        @event.listens_for(engine, "begin")
        def begin(conn: Any) -> None:  # a writer: take the lock first, as sysinv does
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        insert: Any = sqlite.insert
    else:
        engine = create_engine(db_url, pool_size=10, max_overflow=30)
        insert = postgresql.insert
    core = client.CoreV1Api(config.new_client_from_config(kubeconfig))
    hosts, labels = Host.__table__, Label.__table__
    app = FastAPI()

    @app.post("/labels/{hostname}")
    def assign(hostname: str, body: dict[str, str] = Body()) -> dict[str, Any]:  # noqa: B008
        with engine.begin() as conn:
            host_id = conn.scalar(select(hosts.c.id).where(hosts.c.hostname == hostname))
            if host_id is None:
                raise HTTPException(404, f"no host {hostname}")
            stmt = insert(labels).values(
                [{"host_id": host_id, "label_key": k, "label_value": v} for k, v in body.items()]
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[labels.c.host_id, labels.c.label_key],
                set_={"label_value": stmt.excluded.label_value},
            )
            conn.execute(stmt)
        core.patch_node(hostname, {"metadata": {"labels": body}}, _preload_content=False)
        return {"labels": body}

    return app


def serve_ceiling(db_url: str, kubeconfig: str, port: int) -> None:
    import uvicorn

    app = ceiling_app(db_url, kubeconfig)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


# -- the sides ------------------------------------------------------------------------------


def bindir() -> Path:
    return Path(sys.executable).parent


def start_ceiling(tmp: Path, name: str, db_url: str, kube: KubeCluster,
                  running: list[ManagedProcess]) -> str:  # fmt: skip
    port = free_port()
    argv = [sys.executable, __file__, "--serve-ceiling", db_url, str(kube.kubeconfig), str(port)]
    running.append(ManagedProcess(name, argv, tmp / f"{name}.log"))
    wait_port(port, 60, name)
    return f"http://127.0.0.1:{port}/labels"


def prepared(tmp: Path, db_url: str | None, hostnames: list[str]) -> str:
    """A database with sysinv's schema and ``hostnames`` as hosts (the ceiling's)."""
    settings = make_settings(tmp, db_url)
    db = prepare_database(settings)
    try:
        with db.session() as s:
            for name in hostnames:
                s.add(host_states.new_host(hostname=name, personality="worker"))
    finally:
        db.dispose()
    return settings.database_url


def start_production(tmp: Path, db_url: str, redis_url: str, kube: KubeCluster,
                     running: list[ManagedProcess]) -> tuple[str, str]:  # fmt: skip
    settings = make_settings(tmp / "state", db_url)
    prepare_database(settings).dispose()
    port = free_port()
    env = dict(
        os.environ, SYSINV_STATE_DIR=str(settings.state_dir), SYSINV_DATABASE__URL=db_url,
        SYSINV_MESSAGING__BROKER_URL=redis_url, SYSINV_KUBERNETES__KUBECONFIG=str(kube.kubeconfig),
        SYSINV_API__PORT=str(port), SYSINV_API__AUTH="none", SYSINV_CONDUCTOR_ID="bench",
        SYSINV_LOG_LEVEL="WARNING",
    )  # fmt: skip
    for name in ("conductor", "api"):
        running.append(
            ManagedProcess(name, [str(bindir() / f"sysinv-{name}")], tmp / f"{name}.log", env=env)
        )
    wait_port(port, 60, "sysinv-api")
    return f"http://127.0.0.1:{port}", settings.database_url


def start_embedded(tmp: Path, kube: KubeCluster, running: list[ManagedProcess]) -> tuple[str, str]:
    port = free_port()
    data = tmp / "aio"
    env = dict(os.environ, SYSINV_LOG_LEVEL="WARNING")
    argv = [str(bindir() / "sysinv"), "aio", "--data-dir", str(data), "--port", str(port),
            "--kubeconfig", str(kube.kubeconfig)]  # fmt: skip
    running.append(ManagedProcess("aio", argv, tmp / "aio.log", env=env))
    wait_port(port, 60, "sysinv aio")
    return f"http://127.0.0.1:{port}", f"sqlite:///{data / 'sysinv.db'}"


def add_hosts(base: str, hostnames: list[str]) -> None:
    with httpx.Client(timeout=60) as c:
        for name in hostnames:
            r = c.post(f"{base}/v1/ihosts", json={"hostname": name, "personality": "worker"})
            if r.status_code != 200:
                raise SystemExit(f"host-add {name}: {r.status_code} {r.text}")


# -- the load --------------------------------------------------------------------------------

Write = tuple[int, dict[str, str]]  # (host index, labels)


def writes(n: int, hosts: int) -> list[Write]:
    return [(i % hosts, {f"{PREFIX}/k{i}": f"v{i}"}) for i in range(n)]


def run(clients: int, url: Callable[[int], str], work: list[Write]) -> tuple[float, list[float]]:
    """``work`` sent by ``clients`` threads (client c sends writes c, c+C, ...): total time
    and each write's latency."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures: list[str] = []
    start = threading.Barrier(clients + 1)

    def client(c: int) -> None:
        with httpx.Client(timeout=60) as http:
            start.wait()
            for host, labels in work[c::clients]:
                began = time.perf_counter()
                r = http.post(url(host), json=labels)
                latencies[c].append(time.perf_counter() - began)
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:200]}")
                    return

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    total = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} writes failed, the first: {failures[0]}")
    return total, [x for per in latencies for x in per]


def expected_state(work: list[Write], hostnames: list[str]) -> dict[str, dict[str, str]]:
    state: dict[str, dict[str, str]] = {name: {} for name in hostnames}
    for host, labels in work:
        state[hostnames[host]].update(labels)
    return state


def check_state(db_url: str, kube: KubeCluster, expected: dict[str, dict[str, str]]) -> None:
    """The database's labels and the Nodes' (ours: PREFIX) are exactly ``expected``."""
    settings = make_settings(Path(tempfile.mkdtemp()), db_url)
    from sysinv_common.db.engine import Database

    db = Database(settings.database_url)
    try:
        with db.session() as s:
            for name, labels in expected.items():
                host = s.scalars(select(Host).where(Host.hostname == name)).one()
                rows = s.scalars(select(Label).where(Label.host_id == host.id))
                stored = {lb.label_key: lb.label_value for lb in rows}
                node = kube.core_v1().read_node(name).metadata.labels or {}
                on_node = {k: v for k, v in node.items() if k.startswith(PREFIX)}
                if not stored == on_node == labels:
                    raise SystemExit(f"{name}: database {stored}, Node {on_node}, want {labels}")
    finally:
        db.dispose()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


@contextmanager
def servers(tmp: Path, names: list[str], embedded_only: bool) -> Iterator[tuple[Any, Any, Any]]:
    procs.install_cleanup()
    postgres = None if embedded_only else PostgresServer().start()
    redis = None if embedded_only else RedisServer().start()
    kube = start_kube_cluster(names, tmp / "kube")
    try:
        yield postgres, redis, kube
    finally:
        kube.stop()
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.stop()


Side = tuple[str, Callable[[int], str]]  # (name, URL of a write to host i)


def compare(label: str, clients: int, work: list[Write], ours: Side, ceiling: Side,
            db_urls: tuple[str, str], hostnames: tuple[list[str], list[str]],
            kube: KubeCluster) -> dict[str, float]:  # fmt: skip
    """Warm both sides up, run the same writes on each, check both end states."""
    warm = [(h, {f"{PREFIX}/warm": "1"}) for h in range(len(hostnames[0]))]
    for side in (ours, ceiling):
        run(min(clients, len(warm)), side[1], warm)
    ceiling_total, ceiling_lat = run(clients, ceiling[1], work)
    ours_total, ours_lat = run(clients, ours[1], work)
    for db_url, names in zip(db_urls, hostnames, strict=True):
        check_state(db_url, kube, expected_state(warm + work, names))
    n = len(work)
    print(f"{label}: {n} writes by {clients} clients to {len(hostnames[0])} hosts' Nodes; "
          "end states checked equal (database = Nodes = expected) on both sides")  # fmt: skip
    for name, total, lat in (
        (ours[0], ours_total, ours_lat), (ceiling[0], ceiling_total, ceiling_lat)
    ):  # fmt: skip
        print(f"  {name:<34} {n / total:7.1f} writes/s  p50 {pct(lat, 0.5) * 1000:6.1f} ms  "
              f"p99 {pct(lat, 0.99) * 1000:6.1f} ms  max {max(lat) * 1000:6.1f} ms")  # fmt: skip
    ratio = ceiling_total / ours_total
    print(f"  throughput ratio sysinv/ceiling: {ratio:.2f}x")
    return {"ratio": ratio, "p99": pct(ours_lat, 0.99)}


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-ceiling":
        serve_ceiling(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--writes", type=int, default=800)
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--no-embedded", action="store_true", help="the production round only")
    parser.add_argument("--embedded-only", action="store_true", help="the embedded round only")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-label-assign-"))
    sides = {side: [f"{side}-{i:03d}" for i in range(args.hosts)]
             for side in ("prod", "ceil", "aio", "ceil-lite")}  # fmt: skip
    work = writes(args.writes, args.hosts)
    print(f"configuration: {args.clients} clients, {args.writes} writes, {args.hosts} hosts; "
          f"{os.cpu_count()} CPUs; sysinv defaults (messaging.call_workers, pools)")  # fmt: skip
    with servers(tmp, [n for names in sides.values() for n in names], args.embedded_only) as (
        postgres, redis, kube
    ):  # fmt: skip
        if not args.embedded_only:
            running: list[ManagedProcess] = []
            try:
                base, ours_db = start_production(tmp / "prod", postgres.create_database()[1],
                                                 redis.url, kube, running)  # fmt: skip
                add_hosts(base, sides["prod"])
                ceil_db = prepared(tmp / "ceil", postgres.create_database()[1], sides["ceil"])
                ceiling = start_ceiling(tmp, "ceiling-pg", ceil_db, kube, running)
                prod = sides["prod"]
                compare(
                    "production (PostgreSQL + Redis, sysinv-api + sysinv-conductor)", args.clients,
                    work, ("sysinv", lambda h: f"{base}/v1/labels/{prod[h]}?overwrite=True"),
                    ("ceiling (FastAPI + SQLAlchemy)", lambda h: f"{ceiling}/{sides['ceil'][h]}"),
                    (ours_db, ceil_db), (sides["prod"], sides["ceil"]), kube,
                )  # fmt: skip
                print("  goals: ratio >= 0.5x, p99 < 100 ms")
            finally:
                for proc in reversed(running):
                    proc.stop()
        if not args.no_embedded:
            running = []
            try:
                base, ours_db = start_embedded(tmp, kube, running)
                add_hosts(base, sides["aio"])
                lite = f"sqlite:///{tmp / 'ceiling.db'}"
                ceil_db = prepared(tmp / "ceil-lite", lite, sides["ceil-lite"])
                ceiling = start_ceiling(tmp, "ceiling-sqlite", ceil_db, kube, running)
                compare(
                    "embedded (sysinv aio: SQLite, in-process broker)", args.clients, work,
                    ("sysinv aio", lambda h: f"{base}/v1/labels/{sides['aio'][h]}?overwrite=True"),
                    ("ceiling (FastAPI + SQLAlchemy, SQLite)",
                     lambda h: f"{ceiling}/{sides['ceil-lite'][h]}"),
                    (ours_db, ceil_db), (sides["aio"], sides["ceil-lite"]), kube,
                )  # fmt: skip
                print("  (issue 23 measured 0.10x here)")
            finally:
                for proc in reversed(running):
                    proc.stop()


if __name__ == "__main__":
    main()
