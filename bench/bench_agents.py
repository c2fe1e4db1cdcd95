"""A label change reaching N agents: pushed to all at once vs one agent after another.

N ``sysinv-agent`` processes (files under temporary roots, commands recorded) and a
conductor worker on a throwaway Redis. Our figure: assign a
label on every host, then wait until every host reports the new target applied (the
conductor pushes each change as it happens, the agents apply in parallel). The baseline,
measured in the same run: the same change made one host at a time, waiting for each
agent to report before the next (what a sequential push, such as a puppet run per host,
costs).

Fair: both rounds make the same label change on every host and wait the same way. The
wait is event-driven: the in-process conductor's handlers of agents' reports (applied
configuration, heartbeat) are wrapped to signal the benchmark after they commit, and only
then does it read the hosts' targets from the database (one query, on a connection of its
own that takes no lock: the service's sessions on SQLite begin IMMEDIATE, and the reads
would queue behind the conductor's writes and hold them up), so the time spent checking
is negligible; it is measured and printed. After each round, every host must
carry the round's label with its configuration applied, or the benchmark exits 1.

    python bench/bench_agents.py [--agents 50]

CI runs it at a smoke size; run it by hand at the default.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, create_engine, select

from sysinv_agent.inventory import fake_root
from sysinv_common.agent_proof import encode_key
from sysinv_common.db.models.host import Host, Label
from sysinv_conductor.flows import host_config
from tests.servers import procs
from tests.servers.procs import ManagedProcess
from tests.servers.redis import RedisServer
from tests.stack import Stack, make_settings, running_stack


def hosts(stack: Stack) -> dict[str, dict[str, Any]]:
    listed = stack.client.get("/v1/ihosts").json()["ihosts"]
    return {h["hostname"]: stack.client.get(f"/v1/ihosts/{h['uuid']}").json() for h in listed}


P = ParamSpec("P")


class Reports:
    """Signalled after the conductor committed an agent's report: the wait's only trigger."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.changed = threading.Condition()
        self.generation = 0
        self.checking = 0.0  # seconds spent reading the hosts' state, the benchmark's own
        self.checks = 0

    def wrap(self, handler: Callable[P, None]) -> Callable[P, None]:
        def signalled(*args: P.args, **kwargs: P.kwargs) -> None:
            try:
                handler(*args, **kwargs)
            finally:
                with self.changed:
                    self.generation += 1
                    self.changed.notify_all()

        return signalled

    def state(self, stack: Stack, names: list[str]) -> dict[str, tuple[str | None, str | None]]:
        if self.engine is None:  # plain SQLAlchemy: a SELECT opens no transaction, no lock
            self.engine = create_engine(stack.settings.database_url)
        started = time.perf_counter()
        with self.engine.connect() as c:
            rows = c.execute(select(Host.hostname, Host.config_target, Host.config_applied)
                             .where(Host.hostname.in_(names))).all()  # fmt: skip
        self.checking += time.perf_counter() - started
        self.checks += 1
        return {name: (target, applied) for name, target, applied in rows}

    def wait(self, stack: Stack, names: list[str], before: dict[str, str],
             timeout: float = 300) -> None:  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            with self.changed:
                seen = self.generation
            now = self.state(stack, names)
            if len(now) == len(names) and all(
                target and applied == target and target != before.get(name)
                for name, (target, applied) in now.items()
            ):
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit(f"agents did not converge within {timeout:.0f} s")
            with self.changed:
                # A report committed since the read above is not missed: no wait then.
                # The timeout only bounds a report lost to the signal (none expected).
                if self.generation == seen:
                    self.changed.wait(timeout=min(left, 2.0))


def label_all(
    stack: Stack, reports: Reports, names: list[str], value: str, one_by_one: bool
) -> tuple[float, float]:
    """Seconds until every host applied the label, and of those the seconds spent checking."""
    by_name = hosts(stack)
    before = {n: by_name[n]["config_target"] for n in names}
    reports.checking = 0.0
    start = time.perf_counter()
    for name in names:
        r = stack.client.post(f"/v1/labels/{by_name[name]['uuid']}?overwrite=True",
                              json={"bench/round": value})  # fmt: skip
        assert r.status_code == 200, r.text
        if one_by_one:
            reports.wait(stack, [name], before)
    reports.wait(stack, names, before)
    return time.perf_counter() - start, reports.checking


def check_round(stack: Stack, names: list[str], value: str) -> None:
    """Every host carries the round's label and has applied its configuration: or exit 1."""
    with stack.db.session() as s:
        rows = s.execute(
            select(Host.hostname, Host.config_target, Host.config_applied, Label.label_value)
            .join(Label, Label.host_id == Host.id)
            .where(Host.hostname.in_(names), Label.label_key == "bench/round")
        ).all()
    good = [n for n, target, applied, v in rows if v == value and target and applied == target]
    if len(good) != len(names):
        raise SystemExit(f"bench_agents: {len(good)} of {len(names)} hosts applied {value!r}")


def start_agent(stack: Stack, tmp: Path, i: int, name: str) -> ManagedProcess:
    settings = stack.settings
    # The node's key, as `sysinv agent-key NAME` prints it, in a file only it can read.
    key_file = tmp / "keys" / name
    key_file.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(encode_key(stack.conductor.ctx.agent_keys.key(name)))
    env = dict(
        os.environ,
        SYSINV_STATE_DIR=str(tmp / "agents" / name),
        SYSINV_MESSAGING__BROKER_URL=settings.messaging.broker_url,
        SYSINV_MESSAGING__QUEUE_PREFIX=settings.messaging.queue_prefix,
        SYSINV_AGENT__HOSTNAME=name,
        SYSINV_AGENT__ROOT=str(tmp / "roots" / name),
        SYSINV_AGENT__INVENTORY_ROOT=str(fake_root(
            tmp / "inv" / name, name, f"02:00:00:00:{i // 256:02x}:{i % 256:02x}",
            f"10.0.{i // 250}.{i % 250 + 1}",
        )),
        SYSINV_AGENT__RECORD_COMMANDS="true",
        SYSINV_AGENT__KEY_FILE=str(key_file),
        SYSINV_LOG_LEVEL="WARNING",
    )  # fmt: skip
    agent = str(Path(sys.executable).with_name("sysinv-agent"))
    return ManagedProcess(name, [agent], tmp / f"{name}.log", env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    args = parser.parse_args()
    procs.install_cleanup()
    redis = RedisServer().start()
    agents: list[ManagedProcess] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-agents-") as tmpdir:
            tmp = Path(tmpdir)
            settings = make_settings(tmp / "state")
            settings.messaging.broker_url = redis.url
            reports = Reports()
            # tasks.py looks the handlers up at each call: wrapping the module's is enough.
            host_config.config_applied = reports.wrap(host_config.config_applied)
            host_config.heartbeat = reports.wrap(host_config.heartbeat)
            with running_stack(settings) as stack:
                names = [f"bench-{i:03d}" for i in range(args.agents)]
                agents = [start_agent(stack, tmp, i, n) for i, n in enumerate(names)]
                reports.wait(stack, names, {})
                ours, ours_checking = label_all(stack, reports, names, "a", one_by_one=False)
                check_round(stack, names, "a")
                baseline, base_checking = label_all(stack, reports, names, "b", one_by_one=True)
                check_round(stack, names, "b")
                if reports.engine is not None:
                    reports.engine.dispose()
                for agent in agents:
                    agent.stop()
    finally:
        for agent in agents:
            agent.stop()
        redis.stop()
    print(f"bench_agents: label change to {args.agents} agents (separate processes) and an "
          f"in-process API and conductor on SQLite and Redis, {os.cpu_count()} cores; "
          "waits event-driven (signalled by the conductor's report handlers)")  # fmt: skip
    print(f"  checked: every host applied each round's label ({reports.checks} state reads)")
    print(
        f"  sysinv (pushed to all, applied in parallel): {ours * 1000:9.0f} ms "
        f"(checking {ours_checking * 1000:.0f} ms, {100 * ours_checking / ours:.1f} %)"
    )
    print(
        f"  baseline (one agent after another):          {baseline * 1000:9.0f} ms "
        f"(checking {base_checking * 1000:.0f} ms, {100 * base_checking / baseline:.1f} %)"
    )
    print(f"  ratio baseline/ours:                         {baseline / ours:9.1f}x")


if __name__ == "__main__":
    main()
