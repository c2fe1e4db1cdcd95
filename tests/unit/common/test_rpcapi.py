"""The conductor's typed API: every method has a handler, messages of another major
version are refused, and secrets travel in an apply job as references only."""

from __future__ import annotations

from typing import Any

import pytest
from celery import Celery

from helm_overrides.snapshot import SecretRef
from sysinv_common.messaging import rpcapi as rpc
from sysinv_conductor import tasks
from sysinv_conductor.flows.helm_charts import from_wire, to_wire


class _Ctx:
    conductor_id = "unit"


def _run(method: rpc.Method[Any, Any], payload: Any) -> Any:
    table = tasks.handlers(_Ctx())  # type: ignore[arg-type]
    return tasks._task(method, table[method])(payload)


def test_every_method_has_a_handler_and_a_unique_task_name() -> None:
    table = tasks.handlers(_Ctx())  # type: ignore[arg-type]
    assert set(table) == set(rpc.METHODS)
    names = [m.task for m in rpc.METHODS]
    assert len(names) == len(set(names))
    app = Celery("unit", broker="memory://")
    tasks.register_tasks(app, _Ctx())  # type: ignore[arg-type]
    assert set(names) <= set(app.tasks)


def test_a_message_of_another_major_version_is_refused() -> None:
    answer = _run(rpc.PING, {"rpc_version": "2.0"})
    assert answer["error"]["type"] == "InvalidInput"
    assert "RPC version 2.0" in answer["error"]["message"]
    assert _run(rpc.PING, {"rpc_version": "1.7"}) == {"ok": {"conductor_id": "unit"}}


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ({"rpc_version": "1.0", "host_id": "x", "action": "lock"}, "invalid host_id"),
        ({"rpc_version": "1.0", "host_id": 1, "action": "lock", "x": 1}, "invalid x"),
        ([], "expected a HostAction object"),
    ],
)
def test_a_malformed_request_is_refused_with_its_field(payload: Any, why: str) -> None:
    answer = _run(rpc.HOST_ACTION, payload)
    assert answer["error"]["type"] == "InvalidInput"
    assert why in answer["error"]["message"]


def test_secrets_cross_the_broker_as_references_only() -> None:
    values = {"chart-doc": {"auth": {"password": SecretRef("keystone-admin")}, "n": [1, "x"]}}
    wire = to_wire(values)
    assert wire == {
        "chart-doc": {"auth": {"password": {"$secret": "keystone-admin"}}, "n": [1, "x"]}
    }
    job = rpc.AppJob(app_id=1, token="t", values=wire)
    again = rpc.AppJob.model_validate_json(job.model_dump_json())
    assert again.values is not None
    assert from_wire(again.values) == values
