"""The agent protocol through the conductor, with an in-process agent on the stack's broker:
registration matched by MAC, failures in config_status, and refused reports: for another
host's queue, and not signed by the key of the host they name (which change nothing)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select

from sysinv_agent.inventory import fake_root
from sysinv_agent.service import Agent
from sysinv_common.agent_proof import MAX_AGE, MAX_AHEAD, host_key, sign
from sysinv_common.db.models import Host
from sysinv_common.errors import InvalidInput
from sysinv_common.messaging import rpcapi as rpc
from sysinv_common.messaging.app import agent_queue
from sysinv_common.messaging.rpcapi import ConductorAPI
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
        agent = Agent(settings, key=api.conductor.ctx.agent_keys.key(hostname))
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


def agent_of(api: Stack, hostname: str, key: bytes | None = None) -> ConductorAPI:
    """What an agent holding ``key`` (default: ``hostname``'s own) sends with."""
    return ConductorAPI(api.rpc.client, key or api.conductor.ctx.agent_keys.key(hostname))


def call(api: Stack, method: rpc.Method[Any, Any], report: rpc.AgentReport) -> Any:
    # Heartbeats and config_applied are casts; called here to see the refusal the
    # conductor logs.
    return api.rpc.client.call(method.task, report.model_dump(mode="json"))


def test_reports_for_another_host_are_refused(api: Stack) -> None:
    api.add_host("compute-9", "worker")
    with pytest.raises(InvalidInput, match="came from the agent of"):
        agent_of(api, "compute-9").agent_register(
            agent_queue(api.settings.messaging, "someone-else"), {"hostname": "compute-9"}
        )
    with pytest.raises(InvalidInput, match="not registered"):
        beat = agent_of(api, "ghost")._signed(
            rpc.AGENT_HEARTBEAT, hostname="ghost",
            queue=agent_queue(api.settings.messaging, "ghost"), applied=None,
        )  # fmt: skip
        call(api, rpc.AGENT_HEARTBEAT, beat)
    with pytest.raises(InvalidInput, match="invalid inventory"):
        agent_of(api, "x").agent_register(agent_queue(api.settings.messaging, "x"), {"cpus": 1})


def host_row(api: Stack, hostname: str) -> dict[str, Any]:
    with api.db.session() as s:
        host = s.scalars(select(Host).where(Host.hostname == hostname)).one()
        return {a.key: getattr(host, a.key) for a in inspect(Host).column_attrs}


def added(api: Stack, hostname: str, **extra: Any) -> dict[str, Any]:
    """A new host's row once the conductor's sync (cast by the API) has settled it."""
    api.add_host(hostname, "worker", **extra)
    return wait_until(  # type: ignore[no-any-return]
        f"{hostname} synced",
        lambda: (row := host_row(api, hostname))["kube_node"] and row["config_target"] and row,
    )


def forgeries(api: Stack, victim: str, target: str) -> list[tuple[str, rpc.Method[Any, Any],
                                                                   rpc.AgentReport]]:  # fmt: skip
    """Reports in ``victim``'s name, through the broker, that its agent did not sign."""
    queue = agent_queue(api.settings.messaging, victim)
    inventory = {"hostname": victim, "mgmt_mac": "02:00:00:00:05:05", "cpus": 64}
    fields: dict[rpc.Method[Any, Any], dict[str, Any]] = {
        rpc.AGENT_REGISTER: {"queue": queue, "inventory": inventory},
        rpc.AGENT_HEARTBEAT: {"hostname": victim, "queue": queue, "applied": target},
        rpc.AGENT_CONFIG_APPLIED: {"hostname": victim, "queue": queue, "target": target,
                                   "results": [{"name": "docker", "ok": True}]},
    }  # fmt: skip
    other = agent_of(api, victim, key=api.conductor.ctx.agent_keys.key("compute-6"))
    elsewhere = agent_of(api, victim, key=host_key(bytes(32), victim))  # another master
    out: list[tuple[str, rpc.Method[Any, Any], rpc.AgentReport]] = []
    for method, f in fields.items():
        own = agent_of(api, victim)._signed(method, **f)
        out += [
            ("another host's key", method, other._signed(method, **f)),
            ("another deployment's key", method, elsewhere._signed(method, **f)),
            ("unsigned", method, method.request(sent_at=int(time.time()), **f)),
            ("old agent (RPC 1.0)", method, method.request(rpc_version="1.0", **f)),
            ("proof of another report", method, method.request(
                **{**f, "sent_at": own.sent_at, "proof": sign(
                    api.conductor.ctx.agent_keys.key(victim), method.name,
                    {**own.signed_fields(), "queue": "x"})})),
        ]  # fmt: skip
    return out


def test_reports_not_signed_by_their_host_are_refused_and_change_nothing(api: Stack) -> None:
    before = added(api, "compute-5", mgmt_mac="02:00:00:00:05:05")
    added(api, "compute-6", mgmt_mac="02:00:00:00:06:06")
    target = before["config_target"]  # what a forged config_applied or heartbeat would apply
    for what, method, report in forgeries(api, "compute-5", target):
        with pytest.raises(InvalidInput) as refused:
            call(api, method, report)
        assert refused.value.message == (
            "Refused: the report for compute-5 is not signed by that host's key"
        ), what
        assert host_row(api, "compute-5") == before, what
    assert before["availability"] == "offline" and before["config_applied"] is None

    # Nor does a forged registration create a host.
    ghost = agent_queue(api.settings.messaging, "ghost-1")
    with pytest.raises(InvalidInput, match="ghost-1 is not signed by that host's key"):
        agent_of(api, "ghost-1", key=api.conductor.ctx.agent_keys.key("compute-6")).agent_register(
            ghost, {"hostname": "ghost-1"}
        )
    assert host(api, "ghost-1") is None

    # The same reports, signed by compute-5's own key, are taken.
    agent = agent_of(api, "compute-5")
    queue = agent_queue(api.settings.messaging, "compute-5")
    agent.agent_register(queue, {"hostname": "compute-5", "mgmt_mac": "02:00:00:00:05:05"})
    call(api, rpc.AGENT_CONFIG_APPLIED, agent._signed(
        rpc.AGENT_CONFIG_APPLIED, hostname="compute-5", queue=queue, target=target,
        results=[{"name": "docker", "ok": True}],
    ))  # fmt: skip
    after = host_row(api, "compute-5")
    assert after["availability"] == "online" and after["config_applied"] == target


@pytest.mark.parametrize("offset", [-MAX_AGE - 30, MAX_AHEAD + 30], ids=["stale", "future"])
def test_a_stale_or_future_report_is_refused_and_changes_nothing(api: Stack, offset: int) -> None:
    before = added(api, "compute-4")
    key = api.conductor.ctx.agent_keys.key("compute-4")
    fields = {"hostname": "compute-4", "queue": agent_queue(api.settings.messaging, "compute-4"),
              "applied": None, "sent_at": int(time.time()) + offset}  # fmt: skip
    unsigned = rpc.AgentHeartbeat(**fields)
    beat = unsigned.model_copy(
        update={"proof": sign(key, rpc.AGENT_HEARTBEAT.name, unsigned.signed_fields())}
    )
    with pytest.raises(
        InvalidInput, match=r"Refused: the report for compute-4 is (\d+ s old|dated \d+ s ahead)"
    ):
        call(api, rpc.AGENT_HEARTBEAT, beat)
    assert host_row(api, "compute-4") == before
