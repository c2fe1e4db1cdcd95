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
expected labels. Printed: throughput (writes/s) of each side and their ratio, the
p50/p99 latency of each, under load and with 2 clients (below saturation), and the CPU
each process on the machine (by role) spent per write during each side's loaded run,
with what the Kubernetes control plane's share alone allows any implementation here.

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
from dataclasses import dataclass
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
#: Clients of the run below saturation: what one write costs when nothing queues.
LIGHT_CLIENTS = 2

# -- the ceiling ---------------------------------------------------------------------------


def ceiling_app(db_url: str, kubeconfig: str) -> Any:
    """The least an assign can do: one upsert transaction, one Node patch."""
    from fastapi import Body, FastAPI, HTTPException
    from kubernetes import client
    from sqlalchemy import create_engine, event
    from sqlalchemy.dialects import postgresql, sqlite

    from sysinv_conductor.kube.client import api_client

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
    # The Kubernetes client sysinv's conductor builds (its connection pool above all: a
    # smaller one would open, and TLS-handshake, a connection for every write past it).
    core = client.CoreV1Api(api_client(kubeconfig))
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


# -- where the CPU goes ----------------------------------------------------------------------

#: Roles on this machine, by what a process runs (the first that matches).
ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Kubernetes control plane", ("kube-apiserver", "etcd", "kube-controller-manager",
                                  "kube-scheduler", "kwok")),
    ("PostgreSQL", ("postgres",)),
    ("Redis", ("redis-server",)),
    ("sysinv-api", ("sysinv-api",)),
    ("sysinv-conductor", ("sysinv-conductor",)),
    ("sysinv aio", ("aio",)),
)  # fmt: skip
CONTROL_PLANE = ROLES[0][0]
CLIENTS = "the clients (this benchmark)"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _role(pid: int, argv: list[str]) -> str:
    if pid == os.getpid():
        return CLIENTS
    if "--serve-ceiling" in argv:
        return "ceiling"
    if not argv:  # a kernel thread
        return "other"
    # Some servers rename themselves: "postgres: user db ...", "/usr/bin/redis-server addr".
    first = argv[0].split(":")[0].split(" ")[0]
    words = {Path(a).name for a in argv[:3]} | {Path(first).name}
    for role, names in ROLES:
        if words & set(names):
            return role
    return "other"


def cpu_by_role() -> dict[str, float]:
    """CPU seconds each role's processes used so far (user + system, all threads)."""
    used: dict[str, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        role = _role(int(entry), argv.rstrip("\0").split("\0"))
        used[role] = used.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return used


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {role: after[role] - before.get(role, 0.0) for role in after}


# -- the load --------------------------------------------------------------------------------

Write = tuple[int, dict[str, str]]  # (host index, labels)


def writes(n: int, hosts: int, key: str = "k") -> list[Write]:
    return [(i % hosts, {f"{PREFIX}/{key}{i}": f"v{i}"}) for i in range(n)]


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


@dataclass(frozen=True)
class Timed:
    total: float  # seconds
    latencies: list[float]
    cpu: dict[str, float]  # CPU seconds by role during the run
    cpu_window: float  # seconds between the two readings of the CPU


def timed(clients: int, url: Callable[[int], str], work: list[Write]) -> Timed:
    began, before = time.perf_counter(), cpu_by_role()
    total, latencies = run(clients, url, work)
    scan = time.thread_time()
    after = cpu_by_role()
    spent = cpu_spent(before, after)
    # This process read its own CPU partway through each scan of /proc: about one scan's
    # cost is in the clients' figure, and is not theirs.
    spent[CLIENTS] = max(0.0, spent[CLIENTS] - (time.thread_time() - scan))
    return Timed(total, latencies, spent, time.perf_counter() - began)


def compare(label: str, clients: int, work: list[Write], light: list[Write], ours: Side,
            ceiling: Side, db_urls: tuple[str, str], hostnames: tuple[list[str], list[str]],
            kube: KubeCluster) -> dict[str, float]:  # fmt: skip
    """Warm both sides up, run the same writes on each (``light``: by 2 clients, below
    saturation, then ``work`` by ``clients``), check both end states, print the figures."""
    warm = [(h, {f"{PREFIX}/warm": "1"}) for h in range(len(hostnames[0]))]
    for side in (ours, ceiling):
        run(min(clients, len(warm)), side[1], warm)
    figures: dict[str, dict[str, Timed]] = {}
    for side in (ceiling, ours):
        figures[side[0]] = {"light": timed(LIGHT_CLIENTS, side[1], light),
                            "load": timed(clients, side[1], work)}  # fmt: skip
    for db_url, names in zip(db_urls, hostnames, strict=True):
        check_state(db_url, kube, expected_state(warm + light + work, names))
    n = len(work)
    print(f"{label}: {n} writes by {clients} clients to {len(hostnames[0])} hosts' Nodes; "
          "end states checked equal (database = Nodes = expected) on both sides")  # fmt: skip
    for name in (ours[0], ceiling[0]):
        load, lite = figures[name]["load"], figures[name]["light"]
        print(f"  {name:<34} {n / load.total:7.1f} writes/s  "
              f"p50 {pct(load.latencies, 0.5) * 1000:6.1f} ms  "
              f"p99 {pct(load.latencies, 0.99) * 1000:6.1f} ms  "
              f"max {max(load.latencies) * 1000:6.1f} ms")  # fmt: skip
        print(f"  {'':<34} {LIGHT_CLIENTS} clients ({len(light)} writes): "
              f"p50 {pct(lite.latencies, 0.5) * 1000:6.1f} ms  "
              f"p99 {pct(lite.latencies, 0.99) * 1000:6.1f} ms")  # fmt: skip
    ratio = figures[ceiling[0]]["load"].total / figures[ours[0]]["load"].total
    print(f"  throughput ratio sysinv/ceiling: {ratio:.2f}x")
    print_cpu(clients, n, {name: figures[name]["load"] for name in (ours[0], ceiling[0])})
    return {"ratio": ratio, "p99": pct(figures[ours[0]]["load"].latencies, 0.99)}


def print_cpu(clients: int, n: int, runs: dict[str, Timed]) -> None:
    """CPU milliseconds per write by role during each side's run at ``clients``, and what
    the Kubernetes control plane's share alone allows any implementation on this machine."""
    cpus = os.cpu_count() or 1
    print(f"  CPU ms per write during the {clients}-client runs ({cpus} CPUs):")
    for name, timed_run in runs.items():
        spent = {role: t for role, t in timed_run.cpu.items() if t * 1000 / n >= 0.05}
        busy = sum(timed_run.cpu.values()) / timed_run.cpu_window / cpus
        parts = ", ".join(f"{role} {t * 1000 / n:.1f}"
                          for role, t in sorted(spent.items(), key=lambda kv: -kv[1]))  # fmt: skip
        print(f"    {name}: {parts} (CPUs {busy:.0%} busy)")
    # Whatever an implementation does, each write costs the control plane at least this
    # much CPU, so the machine's CPUs bound the throughput; with every client waiting for
    # its answer before the next write, mean latency = clients / throughput (Little's law).
    floor = min(r.cpu.get(CONTROL_PLANE, 0.0) for r in runs.values()) / n
    if floor > 0:
        bound = cpus / floor
        print(f"  the control plane alone: {floor * 1000:.1f} ms CPU per write, so at most "
              f"{bound:.0f} writes/s on {cpus} CPUs for any implementation: a mean latency of "
              f"at least {clients / bound * 1000:.0f} ms at {clients} clients")  # fmt: skip


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
    light = writes(max(LIGHT_CLIENTS, args.writes // 8), args.hosts, "light")
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
                got = compare(
                    "production (PostgreSQL + Redis, sysinv-api + sysinv-conductor)", args.clients,
                    work, light, ("sysinv", lambda h: f"{base}/v1/labels/{prod[h]}?overwrite=True"),
                    ("ceiling (FastAPI + SQLAlchemy)", lambda h: f"{ceiling}/{sides['ceil'][h]}"),
                    (ours_db, ceil_db), (sides["prod"], sides["ceil"]), kube,
                )  # fmt: skip
                print(f"  goals: ratio >= 0.5x ({'met' if got['ratio'] >= 0.5 else 'NOT met'}), "
                      f"p99 < 100 ms ({'met' if got['p99'] < 0.1 else 'NOT met'})")  # fmt: skip
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
                    "embedded (sysinv aio: SQLite, in-process broker)", args.clients, work, light,
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
