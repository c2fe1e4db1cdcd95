"""Host reads at scale: ``sysinv-api`` against a bare FastAPI + SQLAlchemy app (the ceiling).

On PostgreSQL (the test server, started here), with H hosts of 3 labels each written
once (untimed) per size: a real ``sysinv-api`` process (uvicorn, authentication off) and,
as the ceiling, a bare FastAPI app that this script starts in a subprocess with the same
uvicorn settings (one process, ``log_config=None``, log level WARNING, the startup heap
frozen as sysinv-api's). The ceiling reads the same rows (the hosts page by keyset on id
after the marker's id, one statement; the host with the system row, one statement) and
answers the same JSON, serialized as ours is (``pydantic_core.to_json``, faster than
FastAPI's ``JSONResponse``), in synchronous handlers on the same anyio thread pool (40
threads), with a pool of 40 connections and no pre-ping (ours pings each checkout).

Two operations, each run by C concurrent clients (threads, one keep-alive connection
each) for S seconds, ours and the ceiling's in R rounds that alternate which goes first
(the machine is shared: its load drifts), each after a warm-up request per client:

- **list**: the whole host list as StarlingX's API pages it and as ``system host-list``
  reads it: ``GET /v1/ihosts?limit=P`` then ``&marker=<last uuid>`` while a ``next`` link
  comes (P = ``--page-size``, 1000 by default, the CLI's and StarlingX's largest page);
  one operation is every page, one after the other.
- **show**: ``GET /v1/ihosts/<uuid>`` of a host drawn at random.

Before any timing, both answers are checked equal: every page of the list (same hosts,
every field, the same ``next`` links), and the show of 20 hosts drawn at random.
Printed: the configuration, then per size and operation the throughput, p50 and p99
latency of each side (mean rate and every latency over the rounds) and the ratio
ours/ceiling (throughput).

    python bench/bench_reads.py [--hosts 1000,5000] [--clients 16] [--seconds 5]
                                [--page-size 1000] [--rounds 4]

The goal (issue 23): list and show at 0.8x the ceiling or better at 1,000 and 5,000 hosts.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response  # the ceiling's annotations, resolved by FastAPI
from pydantic_core import to_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: The ceiling's pool and the thread pool both sides' handlers run in.
CEILING_POOL = 40
#: Fields every host object carries with the same value whatever the row (sysinv's keys
#: this platform has no such thing for).
CONSTANT = {
    "task": None, "action": "none", "ihost_action": None, "vim_progress_status": None,
    "serialid": None, "uptime": 0, "reserved": False, "reboot_needed": False,
    "ttys_dcd": False, "vsc_controllers": None, "tboot": None, "install_state": None,
    "install_state_info": None, "peers": None, "peer_id": None, "mtce_info": None,
    "device_image_update": None, "apparmor": None, "max_cpu_mhz_configured": None,
    "min_cpu_mhz_allowed": None, "max_cpu_mhz_allowed": None, "cstates_available": None,
    "iscsi_initiator_name": None, "nvme_host_id": None, "nvme_host_nqn": None,
}  # fmt: skip


# --- the ceiling: a bare FastAPI + SQLAlchemy app (run with --serve-ceiling) -----------


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def _host(r: Any, system_uuid: str, sw_version: str) -> dict[str, Any]:
    status = None
    if r.config_target and r.config_target != r.config_applied:
        status = "Config out-of-date"
        if r.config_error:
            status += f" (apply failed: {r.config_error})"
    return {
        "id": r.id, "uuid": r.uuid, "hostname": r.hostname, "personality": r.personality,
        "subfunctions": r.subfunctions or r.personality, "subfunction_oper": r.operational,
        "subfunction_avail": r.availability, "administrative": r.administrative,
        "operational": r.operational, "availability": r.availability,
        "invprovision": "provisioned" if r.personality else "unprovisioned",
        "inv_state": "inventoried" if r.inventory else None, "mgmt_mac": r.mgmt_mac,
        "mgmt_ip": r.mgmt_ip, "bm_ip": r.bm_ip, "bm_type": r.bm_type,
        "bm_username": r.bm_username, "capabilities": r.capabilities or {},
        "location": r.location or {}, "config_applied": r.config_applied,
        "config_target": r.config_target, "config_status": status,
        "created_at": _iso(r.created_at), "updated_at": _iso(r.updated_at),
        "boot_device": r.boot_device, "rootfs_device": r.rootfs_device,
        "hw_settle": r.hw_settle, "install_output": r.install_output, "console": r.console,
        "clock_synchronization": r.clock_synchronization, "sw_version": sw_version,
        "isystem_uuid": system_uuid, "inventory": r.inventory or {},
        "last_seen_at": _iso(r.last_seen_at), "kube_node": r.kube_node,
        "links": [{"rel": "self", "href": f"/v1/ihosts/{r.uuid}"}], **CONSTANT,
    }  # fmt: skip


def serve_ceiling(db_url: str, port: int) -> None:
    import logging

    import uvicorn

    logging.basicConfig(level=logging.WARNING)
    app = ceiling_app(db_url)
    gc.collect()
    gc.freeze()  # as sysinv-api does (sysinv_common.heap): the same process setting
    uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)).run()


def ceiling_app(db_url: str) -> Any:
    from fastapi import FastAPI
    from sqlalchemy import MetaData, Table, create_engine, select, true

    engine = create_engine(db_url, pool_size=CEILING_POOL, max_overflow=0)
    meta = MetaData()
    hosts = Table("hosts", meta, autoload_with=engine)
    system = Table("system", meta, autoload_with=engine)
    with_system = select(hosts, system.c.uuid.label("s_uuid"), system.c.software_version)
    with_system = with_system.join_from(hosts, system, true())
    app = FastAPI()

    @app.get("/v1/ihosts")
    def list_(request: Request, limit: int, marker: str | None = None) -> Response:
        stmt = with_system.order_by(hosts.c.id).limit(limit + 1)
        if marker:
            after = select(hosts.c.id).where(hosts.c.uuid == marker).scalar_subquery()
            stmt = stmt.where(hosts.c.id > after)
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
        page = [_host(r, r.s_uuid, r.software_version) for r in rows[:limit]]
        body: dict[str, Any] = {"ihosts": page}
        if len(rows) > limit:
            query = urlencode(
                {"sort_key": "id", "sort_dir": "asc", "limit": limit, "marker": page[-1]["uuid"]}
            )
            body["next"] = f"{str(request.base_url).rstrip('/')}/v1/ihosts?{query}"
        return Response(to_json(body), media_type="application/json")

    @app.get("/v1/ihosts/{uuid}")
    def show(uuid: str) -> Response:
        with engine.connect() as conn:
            r = conn.execute(with_system.where(hosts.c.uuid == uuid)).one()
        host = _host(r, r.s_uuid, r.software_version)
        return Response(to_json(host), media_type="application/json")

    return app


# --- the benchmark ---------------------------------------------------------------------


def fill(db_url: str, tmp: Path, n: int) -> list[str]:
    """The schema, the system row and ``n`` hosts with 3 labels each; their uuids by id."""
    from sqlalchemy import select

    from sysinv_common.db.models import Host, Label
    from sysinv_common.db.prepare import prepare_database
    from sysinv_common.states.host import new_host
    from tests.stack import make_settings

    db = prepare_database(make_settings(tmp, db_url))
    try:
        with db.session() as s:
            for i in range(n):
                host = new_host(
                    hostname=f"worker-{i:05d}", personality="worker",
                    subfunctions="worker", mgmt_mac=f"08:00:27:{i >> 16 & 255:02x}:"
                    f"{i >> 8 & 255:02x}:{i & 255:02x}", location={"locn": f"rack {i // 40}"},
                    capabilities={}, inventory={},
                )  # fmt: skip
                host.labels = [
                    Label(label_key="openstack-compute-node", label_value="enabled"),
                    Label(label_key="sriov", label_value="enabled" if i % 2 else "disabled"),
                    Label(label_key=f"zone/{i % 8}", label_value="a"),
                ]
                s.add(host)
        with db.session() as s:
            return list(s.scalars(select(Host.uuid).order_by(Host.id)))
    finally:
        db.dispose()


class Client:
    """One keep-alive HTTP/1.1 connection; answers as bytes (nothing parsed while timed)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path: str) -> bytes:
        self.conn.request("GET", path, headers={"Accept": "application/json"})
        r = self.conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise SystemExit(f"GET {path}: {r.status} {body[:300]!r}")
        return body


def list_paths(uuids: list[str], page: int) -> list[str]:
    """The requests of one whole list, as ``system host-list`` sends them."""
    paths = [f"/v1/ihosts?limit={page}"]
    for end in range(page, len(uuids), page):
        paths.append(f"/v1/ihosts?limit={page}&marker={uuids[end - 1]}")
    return paths


def check_equal(ours: int, ceiling: int, uuids: list[str], page: int) -> None:
    a, b = Client(ours), Client(ceiling)
    paths, url = [], f"/v1/ihosts?limit={page}"
    seen: list[str] = []
    while url:
        mine, theirs = json.loads(a.get(url)), json.loads(b.get(url))
        # The next links differ only by the server's port.
        for body, port in ((mine, ours), (theirs, ceiling)):
            if "next" in body:
                body["next"] = body["next"].replace(f":{port}/", ":PORT/")
        if mine != theirs:
            raise SystemExit(f"GET {url}: the answers differ: {_diff(mine, theirs)}")
        seen += [h["uuid"] for h in mine["ihosts"]]
        paths.append(url)
        url = mine["next"].split(":PORT", 1)[1] if "next" in mine else ""
    if seen != uuids or len(paths) != len(list_paths(uuids, page)):
        raise SystemExit("the pages do not hold every host once, in order")
    for uuid in random.Random(0).sample(uuids, min(20, len(uuids))):
        mine, theirs = (json.loads(c.get(f"/v1/ihosts/{uuid}")) for c in (a, b))
        if mine != theirs:
            raise SystemExit(f"GET /v1/ihosts/{uuid}: the answers differ: {_diff(mine, theirs)}")


def _diff(mine: Any, theirs: Any) -> str:
    if isinstance(mine, dict) and isinstance(theirs, dict):
        keys = sorted(set(mine) ^ set(theirs))
        if keys:
            return f"keys on one side only: {keys}"
        for k in mine:
            if mine[k] != theirs[k]:
                return f"{k}: {_diff(mine[k], theirs[k])}"
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        for x, y in zip(mine, theirs, strict=True):
            if x != y:
                return _diff(x, y)
    return f"{str(mine)[:200]} != {str(theirs)[:200]}"


def run(
    port: int, clients: int, seconds: float, op: Callable[[Client, random.Random], None]
) -> tuple[float, list[float]]:
    """Operations per second and each one's latency, ``clients`` at once for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    start = threading.Barrier(clients + 1)
    stop = threading.Event()

    def worker(i: int) -> None:
        client, rng = Client(port), random.Random(i)
        op(client, rng)  # connected and warm
        start.wait()
        while not stop.is_set():
            began = time.perf_counter()
            op(client, rng)
            latencies[i].append(time.perf_counter() - began)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    done = [x for per in latencies for x in per]
    return len(done) / elapsed, done


def merge(rounds: list[tuple[float, list[float]]]) -> tuple[float, list[float]]:
    """Rounds of equal length as one: the mean rate, every latency."""
    return sum(r for r, _ in rounds) / len(rounds), [x for _, lat in rounds for x in lat]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def start_ours(tmp: Path, db_url: str) -> tuple[Any, int]:
    from tests.servers.ports import free_port, wait_port
    from tests.servers.procs import ManagedProcess

    port = free_port()
    env = dict(
        os.environ, SYSINV_STATE_DIR=str(tmp / "state"), SYSINV_DATABASE__URL=db_url,
        SYSINV_MESSAGING__BROKER_URL="memory://", SYSINV_API__PORT=str(port),
        SYSINV_API__AUTH="none", SYSINV_LOG_LEVEL="WARNING",
    )  # fmt: skip
    api = Path(sys.executable).parent / "sysinv-api"
    proc = ManagedProcess("sysinv-api", [str(api)], tmp / "api.log", env=env)
    wait_port(port, 60, "sysinv-api")
    return proc, port


def start_ceiling(tmp: Path, db_url: str) -> tuple[Any, int]:
    from tests.servers.ports import free_port, wait_port
    from tests.servers.procs import ManagedProcess

    port = free_port()
    argv = [sys.executable, __file__, "--serve-ceiling", db_url, str(port)]
    proc = ManagedProcess("ceiling", argv, tmp / "ceiling.log")
    wait_port(port, 60, "ceiling")
    return proc, port


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve-ceiling":
        serve_ceiling(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1000,5000", help="host counts, comma-separated")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0, help="per round")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=4, help="per side, alternating")
    args = parser.parse_args()
    from tests.servers import procs
    from tests.servers.postgres import PostgresServer

    sizes = [int(n) for n in args.hosts.split(",")]
    print(
        f"host reads on PostgreSQL (loopback), {args.clients} concurrent clients (threads, one "
        f"keep-alive connection each), {args.rounds} rounds of {args.seconds:g} s per "
        "operation and side, alternating which side goes first; "
        f"list = every page of {args.page_size} hosts after the marker as system host-list "
        "reads them; show = one host by uuid, drawn at random; hosts with 3 labels each. "
        "Ours: sysinv-api (uvicorn, auth off, default settings); ceiling: bare FastAPI + "
        f"SQLAlchemy Core, same uvicorn settings, frozen startup heap and JSON serializer "
        f"(pydantic_core), pool {CEILING_POOL}. "
        "Answers checked equal "
        "(every page, 20 shows) before timing.",
        flush=True,
    )
    procs.install_cleanup()
    postgres = PostgresServer().start()
    results = []
    try:
        for n in sizes:
            tmp = Path(tempfile.mkdtemp(prefix=f"bench-reads-{n}-"))
            db_url = postgres.create_database()[1]
            uuids = fill(db_url, tmp, n)
            ours, ours_port = start_ours(tmp, db_url)
            ceiling, ceiling_port = start_ceiling(tmp, db_url)
            try:
                check_equal(ours_port, ceiling_port, uuids, args.page_size)
                paths = list_paths(uuids, args.page_size)

                def whole_list(c: Client, _rng: random.Random, paths: list[str] = paths) -> None:
                    for path in paths:
                        c.get(path)

                def one_host(c: Client, rng: random.Random, uuids: list[str] = uuids) -> None:
                    c.get(f"/v1/ihosts/{rng.choice(uuids)}")

                for name, op in (("list", whole_list), ("show", one_host)):
                    # Rounds alternate which side goes first: the machine is shared, and
                    # its load drifts.
                    sides: dict[int, list[tuple[float, list[float]]]] = {}
                    for r in range(args.rounds):
                        order = (ours_port, ceiling_port)
                        for port in order if r % 2 == 0 else order[::-1]:
                            sides.setdefault(port, []).append(
                                run(port, args.clients, args.seconds, op)
                            )
                    mine, theirs = (merge(sides[p]) for p in (ours_port, ceiling_port))
                    results.append((n, name, len(paths) if name == "list" else 1, mine, theirs))
            finally:
                ceiling.stop()
                ours.stop()
    finally:
        postgres.stop()
    for n, name, requests, (ours_rate, ours_lat), (ceil_rate, ceil_lat) in results:
        label = f"{name} ({requests} request{'s' if requests > 1 else ''})"
        print(f"{n:>6} hosts, {label:<15}", end="")
        for side, rate, lat in (("ours", ours_rate, ours_lat), ("ceiling", ceil_rate, ceil_lat)):
            print(
                f"  {side} {rate:7.1f}/s p50 {pct(lat, 0.5) * 1000:7.1f} ms "
                f"p99 {pct(lat, 0.99) * 1000:7.1f} ms",
                end="",
            )
        print(f"  ours/ceiling {ours_rate / ceil_rate:.2f}x (goal >= 0.8x)")


if __name__ == "__main__":
    main()
