"""The agent protocol through the conductor, with an in-process agent on the stack's broker:
registration matched by MAC, failures in config_status, and refused reports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sysinv_agent.inventory import fake_root
from sysinv_agent.service import Agent
from sysinv_common.errors import InvalidInput
from sysinv_common.messaging import rpcapi as rpc
from sysinv_common.messaging.app import agent_queue
from tests.stack import Stack, wait_until


@pytest.fixture
def agent_for(api: Stack, tmp_path: Path) -> Iterator[Callable[..., Agent]]:
    started: list[Agent] = []

    def start(hostname: str, mac: str, failures: tuple[str, ...] = ()) -> Agent:
        settings = api.settings.model_copy(deep=True)
        settings.agent.hostname = hostname
        settings.agent.root = tmp_path / f"root-{hostname}"
        settings.agent.inventory_root = fake_root(tmp_path / f"inv-{hostname}", hostname, mac,
                                                  "192.168.204.77")  # fmt: skip
        settings.agent.record_commands = True
        settings.agent.record_failures = list(failures)
        agent = Agent(settings)
        agent.start_in_thread()
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()


def host(api: Stack, name: str) -> dict[str, Any] | None:
    for h in api.client.get("/v1/ihosts").json()["ihosts"]:
        if h["hostname"] == name:
            return dict(api.client.get(f"/v1/ihosts/{h['uuid']}").json())
    return None


def test_registration_finds_the_host_added_by_mac(
    api: Stack, agent_for: Callable[..., Agent]
) -> None:
    added = api.add_host("compute-7", "worker", mgmt_mac="02:00:00:00:07:07")
    agent_for("compute-7", "02:00:00:00:07:07")
    h = wait_until("converged", lambda: (x := host(api, "compute-7")) and x["config_applied"]
                   and x["config_applied"] == x["config_target"] and x)  # fmt: skip
    assert h["uuid"] == added["uuid"] and h["personality"] == "worker"
    assert h["availability"] == "online" and h["inventory"]["mgmt_mac"] == "02:00:00:00:07:07"


def test_a_failed_configurator_shows_in_config_status_and_keeps_the_old_file(
    api: Stack, agent_for: Callable[..., Agent]
) -> None:
    agent = agent_for("compute-8", "02:00:00:00:08:08", failures=("restart docker",))
    h = wait_until("a failed apply", lambda: (x := host(api, "compute-8"))
                   and "apply failed" in (x["config_status"] or "") and x)  # fmt: skip
    assert h["config_status"].startswith("Config out-of-date (apply failed: docker: ")
    assert h["config_applied"] != h["config_target"]
    assert h["operational"] == "disabled"
    daemon = agent.node.root / "etc/docker/daemon.json"
    assert daemon.is_file()  # written; only the restart failed, and it will be retried


def test_reports_for_another_host_are_refused(api: Stack) -> None:
    api.add_host("compute-9", "worker")
    with pytest.raises(InvalidInput, match="came from the agent of"):
        api.rpc.agent_register(
            agent_queue(api.settings.messaging, "someone-else"), {"hostname": "compute-9"}
        )
    with pytest.raises(InvalidInput, match="not registered"):
        # A heartbeat is a cast; called here to see the refusal the conductor logs.
        beat = rpc.AgentHeartbeat(
            hostname="ghost", queue=agent_queue(api.settings.messaging, "ghost")
        )
        api.rpc.client.call(rpc.AGENT_HEARTBEAT.task, beat.model_dump(mode="json"))
    with pytest.raises(InvalidInput, match="invalid inventory"):
        api.rpc.agent_register(agent_queue(api.settings.messaging, "x"), {"cpus": "many"})
