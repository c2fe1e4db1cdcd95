"""Concurrent label writes in production mode: latency of each, and the end state checked.

A real ``sysinv-api`` and ``sysinv-conductor`` on PostgreSQL, Redis and the test
Kubernetes control plane (kwok Nodes). Our figure: N clients each assign one label at the
same moment, each to one of H hosts, each a key of its own (so any order of application
gives the same end state); we report p50/p95/p99/max latency and the total time. The
baseline, measured in the same run on the same servers: the same number of writes sent
one after another by one client (what the service does for a single caller, the least
it can take per write). Both rounds must leave every host's labels in the database equal
to its Node's (checked after each round, before the figures are printed).

    python bench/bench_label_writes.py [--writes 200] [--hosts 20]

The goal (issue "survive faults"): 200 concurrent writes with p99 under 2 s and no
timeout on an idle 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sysinv_common.db.models import Host, Label
from sysinv_common.db.prepare import prepare_database
from tests.servers import procs
from tests.servers.kube import KubeCluster, start_kube_cluster
from tests.servers.ports import free_port, wait_port
from tests.servers.postgres import PostgresServer
from tests.servers.procs import ManagedProcess
from tests.servers.redis import RedisServer
from tests.stack import make_settings


def start_services(
    tmp: Path, db_url: str, redis_url: str, kube: KubeCluster, running: list[ManagedProcess]
) -> tuple[str, str]:
    settings = make_settings(tmp / "state", db_url)
    prepare_database(settings).dispose()
    port = free_port()
    env = dict(
        os.environ,
        SYSINV_STATE_DIR=str(settings.state_dir),
        SYSINV_DATABASE__URL=db_url,
        SYSINV_MESSAGING__BROKER_URL=redis_url,
        SYSINV_KUBERNETES__KUBECONFIG=str(kube.kubeconfig),
        SYSINV_API__PORT=str(port),
        SYSINV_API__AUTH="none",
        SYSINV_CONDUCTOR_ID="bench-conductor",
        SYSINV_LOG_LEVEL="WARNING",
    )
    bindir = Path(sys.executable).parent
    for name in ("conductor", "api"):
        running.append(
            ManagedProcess(name, [str(bindir / f"sysinv-{name}")], tmp / f"{name}.log", env=env)
        )
    wait_port(port, 60, "sysinv-api")
    return f"http://127.0.0.1:{port}", settings.database_url


def check_state(db_url: str, kube: KubeCluster, expected: dict[str, dict[str, str]]) -> None:
    """Every host's labels in the database, and on its Node, are exactly ``expected``."""
    settings = make_settings(Path(tempfile.mkdtemp()), db_url)
    db = prepare_database(settings)
    try:
        with db.session() as s:
            for host in s.scalars(select(Host)):
                rows = s.scalars(select(Label).where(Label.host_id == host.id))
                stored = {lb.label_key: lb.label_value for lb in rows}
                node = kube.core_v1().read_node(host.hostname).metadata.labels or {}
                on_node = {k: v for k, v in node.items() if k.startswith("bench")}
                if not stored == on_node == expected.get(host.hostname, {}):
                    raise SystemExit(f"{host.hostname}: database {stored}, Node {on_node}")
    finally:
        db.dispose()


def writes(round_: str, n: int, hosts: list[tuple[str, str]]) -> list[tuple[str, dict[str, str]]]:
    """Write i: host i mod H gets key bench-<round>/k<i>, a key of its own."""
    return [(hosts[i % len(hosts)][0], {f"bench-{round_}/k{i}": f"v{i}"}) for i in range(n)]


def send(client: httpx.Client, base: str, uuid: str, labels: dict[str, str]) -> float:
    started = time.perf_counter()
    r = client.post(f"{base}/v1/labels/{uuid}?overwrite=True", json=labels)
    if r.status_code != 200:
        raise SystemExit(f"label write answered {r.status_code}: {r.text}")
    return time.perf_counter() - started


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--hosts", type=int, default=20)
    args = parser.parse_args()
    procs.install_cleanup()
    tmp = Path(tempfile.mkdtemp(prefix="bench-label-writes-"))
    names = [f"bench-{i:03d}" for i in range(args.hosts)]
    postgres, redis = PostgresServer().start(), RedisServer().start()
    kube = start_kube_cluster(names, tmp / "kube")
    running: list[ManagedProcess] = []
    try:
        db = postgres.create_database()[1]
        base, db_url = start_services(tmp, db, redis.url, kube, running)
        clients = [httpx.Client(timeout=120) for _ in range(args.writes)]
        hosts = []
        for name in names:
            body = {"hostname": name, "personality": "worker"}
            r = clients[0].post(f"{base}/v1/ihosts", json=body)
            if r.status_code != 200:
                raise SystemExit(f"host-add {name}: {r.status_code} {r.text}")
            hosts.append((r.json()["uuid"], name))
        by_uuid = dict(hosts)
        expected: dict[str, dict[str, str]] = {}

        def record(round_writes: list[tuple[str, dict[str, str]]]) -> None:
            for uuid, labels in round_writes:
                expected.setdefault(by_uuid[uuid], {}).update(labels)

        sequential = writes("seq", args.writes, hosts)
        started = time.perf_counter()
        one_by_one = [send(clients[0], base, u, lb) for u, lb in sequential]
        seq_total = time.perf_counter() - started
        record(sequential)
        check_state(db_url, kube, expected)

        concurrent = writes("con", args.writes, hosts)
        started = time.perf_counter()
        with ThreadPoolExecutor(args.writes) as pool:
            latencies = list(pool.map(
                lambda i: send(clients[i], base, *concurrent[i]), range(args.writes)
            ))  # fmt: skip
        con_total = time.perf_counter() - started
        record(concurrent)
        check_state(db_url, kube, expected)
    finally:
        for proc in reversed(running):
            proc.stop()
        kube.stop()
        redis.stop()
        postgres.stop()
    call_workers = make_settings(tmp / "defaults").messaging.call_workers
    print(f"bench_label_writes: {args.writes} writes to {args.hosts} hosts, PostgreSQL + Redis "
          f"+ {args.hosts} kwok Nodes, a real sysinv-api and sysinv-conductor "
          f"(messaging.call_workers {call_workers}), {os.cpu_count()} cores; "
          "checked after each round: database equal to the Nodes")  # fmt: skip
    print(
        f"  {args.writes} concurrent clients: total {con_total:6.2f} s, p50 "
        f"{pct(latencies, 0.5):.2f} s, p95 {pct(latencies, 0.95):.2f} s, "
        f"p99 {pct(latencies, 0.99):.2f} s, max {max(latencies):.2f} s (goal: p99 < 2 s)"
    )
    print(
        f"  baseline, one client one write after another: total {seq_total:6.2f} s, "
        f"p50 {pct(one_by_one, 0.5) * 1000:.0f} ms per write"
    )
    print(
        f"  throughput concurrent/one-by-one: {seq_total / con_total:.1f}x; "
        "database equal to the Nodes after both rounds"
    )


if __name__ == "__main__":
    main()
