"""Failover of the two-controller control plane: time from SIGKILL to the first write.

The HA test control plane (tests/servers/ha_control_plane.py: a 3-member etcd cluster, two
kube-apiservers, leader-elected controller-managers and schedulers, HAProxy as the floating
endpoint). Our figure, per round: SIGKILL of controller 0's apiserver, controller-manager
and scheduler, then one client (no retry of its own) writes a ConfigMap through the
endpoint until a write succeeds; the time from the signal to that success. The baseline,
measured in the same run on the same client just before each kill: the same write through
the endpoint with both controllers up. Each write is read back from controller 1's own
apiserver and compared before any figure is printed. Between rounds controller 0's
components are started again (as standbys) and HAProxy counts it up again. In the first
round, the time the controller-manager and scheduler Leases take to move to controller 1
is measured too (later rounds kill a standby: no lease moves). With ``--etcd``, controller
0's etcd member dies too, made the Raft leader first (the worst case: the other two elect
a leader before any write commits); it is started again between rounds.

    python bench/bench_failover.py [--rounds 5] [--etcd]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from kubernetes import client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sysinv_conductor.kube.client import api_client
from tests.servers import procs
from tests.servers.ha_control_plane import LEASES, HaControlPlane, start_ha_control_plane

NS = "bench-failover"


def write(core: Any, name: str, timeout: float = 1.0) -> None:
    """One write; an attempt stuck on an etcd election gives up after ``timeout`` and the
    next one is sent. (connect, read) as a pair: with a single number (urllib3's total
    timeout) a write stuck on an election was seen to wait 7 s for etcd's own timeout.)"""
    body = {"metadata": {"name": name}, "data": {"written": name}}
    core.create_namespaced_config_map(NS, body, _request_timeout=(timeout, timeout))


def write_until_done(
    core: Any, name: str, started: float, deadline: float = 60.0
) -> tuple[float, int]:
    """Seconds from ``started`` until ``name`` is written, and the failed attempts."""
    failed = 0
    while True:
        try:
            write(core, name)
            return time.monotonic() - started, failed
        except client.ApiException as exc:
            if exc.status == 409:  # a failed attempt got through after all: it is written
                return time.monotonic() - started, failed
            failed += 1
        except Exception:
            failed += 1
        if time.monotonic() - started > deadline:
            raise SystemExit(f"no write through the endpoint within {deadline:.0f} s")
        time.sleep(0.01)


def check_written(plane: HaControlPlane, names: list[str]) -> None:
    """Every ConfigMap is stored as written, read from controller 1's apiserver itself."""
    api = plane.api_client()
    api.configuration.host = plane.apiserver_urls[1]
    core = client.CoreV1Api(api)
    for name in names:
        data = core.read_namespaced_config_map(name, NS).data
        if data != {"written": name}:
            raise SystemExit(f"{name}: stored {data}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--etcd", action="store_true", help="kill controller 0's etcd too")
    args = parser.parse_args()
    procs.install_cleanup()
    started = time.monotonic()
    plane = start_ha_control_plane(["controller-0"])
    startup = time.monotonic() - started
    baselines: list[float] = []
    failovers: list[tuple[float, int]] = []
    lease_moves: dict[str, float] = {}
    try:
        plane.core_v1().create_namespace({"metadata": {"name": NS}})
        # The probe: the conductor's own client with no retry window, so each refused or
        # dropped attempt counts (and is tried again here, 10 ms later).
        core = client.CoreV1Api(api_client(str(plane.kubeconfig)))
        names = []
        for round_ in range(args.rounds):
            if round_:
                plane.restart_controller(0)
                if args.etcd:
                    assert plane.etcd is not None
                    plane.etcd.restart(0)
            run = uuid.uuid4().hex[:6]
            write(core, f"warm-{run}")  # the client's connection is open, as before a kill
            base = f"base-{run}"
            t0 = time.monotonic()
            write(core, base)
            baselines.append(time.monotonic() - t0)
            if args.etcd:
                assert plane.etcd is not None
                plane.etcd.move_leader(0)
                killed = time.monotonic()
                plane.etcd.kill(0)
                plane.kill_controller(0)
            else:
                killed = plane.kill_controller(0)
            after = f"failover-{run}"
            failovers.append(write_until_done(core, after, killed))
            names += [f"warm-{run}", base, after]
            if round_ == 0:
                for lease in LEASES:
                    plane.wait_lease_held(lease, 60, other_than=plane.initial_holders[lease])
                    lease_moves[lease] = time.monotonic() - killed
        check_written(plane, names)
    finally:
        plane.stop()
    times = [t for t, _ in failovers]
    killed_what = "apiserver, controller-manager, scheduler" + (
        " and etcd member (Raft leader)" if args.etcd else ""
    )
    print(f"bench_failover: {args.rounds} rounds, HA control plane (3 etcd, 2 apiservers, "
          f"HAProxy) ready in {startup:.1f} s, {os.cpu_count()} cores; killed: controller 0's "
          f"{killed_what}; every write read back from controller 1's apiserver")  # fmt: skip
    print(
        f"  SIGKILL of controller 0 -> first write through the endpoint: median "
        f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"(failed attempts per round: {[f for _, f in failovers]})"
    )
    print(
        f"  baseline, the same write with both controllers up: median "
        f"{statistics.median(baselines) * 1000:.0f} ms, max {max(baselines) * 1000:.0f} ms"
    )
    print(
        "  leases moved to controller 1 after "
        + ", ".join(f"{k} {v:.1f} s" for k, v in lease_moves.items())
    )


if __name__ == "__main__":
    main()
