"""A label change reaching N agents: pushed to all at once vs one agent after another.

N ``sysinv-agent`` processes (files under temporary roots, commands recorded) and a
conductor worker on a throwaway Redis. Our figure: assign a
label on every host, then wait until every host reports the new target applied (the
conductor pushes each change as it happens, the agents apply in parallel). The baseline,
measured in the same run: the same change made one host at a time, waiting for each
agent to report before the next (what a sequential push, such as a puppet run per host,
costs).

    python bench/bench_agents.py [--agents 50]

CI runs it at a smoke size; run it by hand at the default.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sysinv_agent.inventory import fake_root
from sysinv_common.agent_proof import encode_key
from tests.servers import procs
from tests.servers.procs import ManagedProcess
from tests.servers.redis import RedisServer
from tests.stack import Stack, make_settings, running_stack


def hosts(stack: Stack) -> dict[str, dict[str, Any]]:
    listed = stack.client.get("/v1/ihosts").json()["ihosts"]
    return {h["hostname"]: stack.client.get(f"/v1/ihosts/{h['uuid']}").json() for h in listed}


def converged(h: dict[str, Any]) -> bool:
    return bool(h["config_target"]) and h["config_applied"] == h["config_target"]


def wait(stack: Stack, names: list[str], before: dict[str, str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        now = {n: h for n, h in hosts(stack).items() if n in names}
        if len(now) == len(names) and all(
            converged(h) and h["config_target"] != before.get(n) for n, h in now.items()
        ):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"agents did not converge within {timeout:.0f} s")
        time.sleep(0.05)


def label_all(stack: Stack, names: list[str], value: str, one_by_one: bool) -> float:
    by_name = hosts(stack)
    before = {n: by_name[n]["config_target"] for n in names}
    start = time.perf_counter()
    for name in names:
        r = stack.client.post(f"/v1/labels/{by_name[name]['uuid']}?overwrite=True",
                              json={"bench/round": value})  # fmt: skip
        assert r.status_code == 200, r.text
        if one_by_one:
            wait(stack, [name], before)
    wait(stack, names, before)
    return time.perf_counter() - start


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
            with running_stack(settings) as stack:
                names = [f"bench-{i:03d}" for i in range(args.agents)]
                agents = [start_agent(stack, tmp, i, n) for i, n in enumerate(names)]
                wait(stack, names, {})
                ours = label_all(stack, names, "a", one_by_one=False)
                baseline = label_all(stack, names, "b", one_by_one=True)
                for agent in agents:
                    agent.stop()
    finally:
        for agent in agents:
            agent.stop()
        redis.stop()
    print(f"label change to {args.agents} agents, until every host reports it applied:")
    print(f"  sysinv (pushed to all, applied in parallel): {ours * 1000:9.0f} ms")
    print(f"  baseline (one agent after another):          {baseline * 1000:9.0f} ms")
    print(f"  ratio baseline/ours:                         {baseline / ours:9.1f}x")


if __name__ == "__main__":
    main()
