"""Alarms end to end: a real ``sysinv-agent`` killed and restarted (200.004 raised within
the offline timeout plus one audit interval, then cleared), and a real apply on the test
cluster failing on one chart (750.002 naming it, cleared by a fixed reapply); each raise
and clear reaches a webhook on the loopback interface, signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sysinv_common.db.models import Host
from tests.integration.example_app import build_example
from tests.integration.test_agents import Node
from tests.servers import secrets_seen
from tests.servers.helm import HelmBinary
from tests.stack import Stack, make_settings, running_stack, wait_done, wait_until
from tests.unit.conductor.test_alarm_flows import Receiver

OFFLINE_TIMEOUT = 4.0
HOOK_SECRET = "e2e-webhook-secret-7f3a"
secrets_seen.remember(HOOK_SECRET)
AUDIT_INTERVAL = 1.0


def active(stack: Stack, alarm_id: str, entity: str) -> dict[str, Any] | None:
    r = stack.client.get("/v1/alarms", params={"q.field": ["alarm_id", "entity_instance_id"],
                                               "q.op": ["eq", "eq"],
                                               "q.value": [alarm_id, entity]})  # fmt: skip
    assert r.status_code == 200, r.text
    found = r.json()["alarms"]
    return found[0] if found else None


def events(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    out = []
    for headers, body in list(receiver.received):
        want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Sysinv-Signature"], want)
        out.append(json.loads(body))
    return out


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.mark.redis
def test_killed_agent_raises_200_004_and_its_restart_clears_it(
    redis_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    settings = make_settings(tmp_path / "state")
    settings.messaging.broker_url = redis_url
    settings.agent.offline_timeout = OFFLINE_TIMEOUT
    settings.agent.audit_interval = AUDIT_INTERVAL
    settings.fm.notify_interval = 0.5
    with running_stack(settings) as stack:
        r = stack.client.post("/v1/alarm_subscriptions",
                              json={"url": receiver.url, "secret": HOOK_SECRET})  # fmt: skip
        assert r.status_code == 201, r.text
        uid = uuid.uuid4().hex[:5]
        node = Node(tmp_path, stack, f"fm{uid}-0", f"02:00:00:{uid[:2]}:01:00", "192.168.204.70")
        try:
            node.start()
            wait_until("the agent registered and converged", node.converged, timeout=60)
            entity = f"host={node.name}"
            assert active(stack, "200.004", entity) is None
            # Its registration created the host: a customer log says it was discovered.
            logs = stack.client.get("/v1/event_log?logs=True").json()["event_log"]
            assert [(e["event_log_id"], e["state"]) for e in logs
                    if e["entity_instance_id"] == entity] == [("200.020", "log")]  # fmt: skip

            assert node.proc is not None
            os.killpg(node.proc.pid, signal.SIGKILL)
            killed = time.monotonic()
            node.proc.stop()
            alarm = wait_until("200.004 raised", lambda: active(stack, "200.004", entity),
                               timeout=OFFLINE_TIMEOUT + AUDIT_INTERVAL + 30)  # fmt: skip
            # The agent's last heartbeat came at most one heartbeat (1 s) before the kill.
            assert time.monotonic() - killed <= OFFLINE_TIMEOUT + 2 * AUDIT_INTERVAL + 3
            assert (alarm["severity"], alarm["service_affecting"]) == ("critical", True)
            assert node.name in alarm["reason_text"]
            summary = stack.client.get("/v1/alarms/summary").json()
            assert summary["critical"] >= 1 and summary["status"] == "critical"

            node.start()
            wait_until("200.004 cleared", lambda: active(stack, "200.004", entity) is None,
                       timeout=60)  # fmt: skip
            host = node.host()
            assert host is not None and host["availability"] == "online"
            logged = stack.client.get(
                "/v1/event_log",
                params={"q.field": "event_log_id", "q.op": "eq", "q.value": "200.004"},
            ).json()
            assert [e["state"] for e in logged["event_log"]][:2] == ["clear", "set"]

            def hook_saw_both() -> list[dict[str, Any]] | None:
                got = [e for e in events(receiver, HOOK_SECRET)
                       if e["alarm"]["entity_instance_id"] == entity]  # fmt: skip
                return got if [e["event"] for e in got] == ["raise", "clear"] else None

            got = wait_until("the webhook got the raise and the clear", hook_saw_both, 30)
            assert {e["alarm"]["alarm_id"] for e in got} == {"200.004"}
        finally:
            if node.proc is not None:
                node.proc.stop()


@pytest.mark.kube
def test_failing_apply_raises_750_002_naming_the_chart_and_a_fixed_reapply_clears_it(
    kube_cluster: Any, helm4: HelmBinary, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm4.path)
    settings.kubernetes.label_audit_interval = 3600
    with running_stack(settings) as stack:
        bundle = build_example(helm4, tmp_path / "out")
        r = stack.client.post("/v1/apps", json={
            "tarfile": str(bundle),
            "binary_data": base64.urlsafe_b64encode(bundle.read_bytes()).decode(),
        })  # fmt: skip
        assert r.status_code == 200, r.text
        assert wait_done(stack, "hello-app")["status"] == "uploaded"
        entity = "k8s_application=hello-app"
        chart = {"name": "hello-web", "namespace": "hello"}

        # Kubernetes refuses a Deployment with negative replicas: helm fails on hello-web.
        r = stack.client.patch("/v1/helm_charts/hello-app", params=chart, json={
            "flags": {}, "values": {"files": [], "set": ["replicaCount=-1"]},
            "attributes": {}})  # fmt: skip
        assert r.status_code == 200, r.text
        r = stack.client.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
        assert r.status_code == 200, r.text
        app = wait_done(stack, "hello-app")
        assert app["status"] == "apply-failed", app
        alarm = active(stack, "750.002", entity)
        assert alarm is not None
        assert "chart hello-web failed" in alarm["reason_text"]
        assert "replicas" in alarm["reason_text"]  # helm's (Kubernetes') own words
        assert alarm["severity"] == "major"
        assert active(stack, "750.004", entity) is None  # no longer in progress

        # The operator fixes the override and reapplies: the alarm goes.
        r = stack.client.patch("/v1/helm_charts/hello-app", params=chart, json={
            "flags": {"reset_values": True}, "values": {"files": [], "set": ["replicaCount=1"]},
            "attributes": {}})  # fmt: skip
        assert r.status_code == 200, r.text
        r = stack.client.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
        assert r.status_code == 200, r.text
        app = wait_done(stack, "hello-app")
        assert app["status"] == "applied", app
        assert active(stack, "750.002", entity) is None
        logged = stack.client.get(
            "/v1/event_log",
            params={"q.field": "entity_instance_id", "q.op": "eq", "q.value": entity},
        ).json()
        states = [(e["event_log_id"], e["state"]) for e in logged["event_log"]]
        assert ("750.002", "set") in states and ("750.002", "clear") in states

        r = stack.client.patch("/v1/apps/hello-app?directive=remove&force=False",
                               json={"values": {}})  # fmt: skip
        assert r.status_code == 200, r.text
        assert wait_done(stack, "hello-app")["status"] == "uploaded"


@pytest.mark.kube
def test_node_the_label_audit_cannot_repair_raises_850_100_until_repaired(
    kube_cluster: Any, tmp_path: Path
) -> None:
    from kubernetes import client

    from sysinv_conductor.context import ConductorContext
    from sysinv_conductor.flows import labels as label_flows

    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.kubernetes.label_audit_interval = 3600  # the test runs the audits itself
    name = f"fm-{uuid.uuid4().hex[:8]}"
    reader = f"sysinv-fm-reader-{uuid.uuid4().hex[:6]}"
    rbac = client.RbacAuthorizationV1Api(kube_cluster.api_client())
    rbac.create_cluster_role(client.V1ClusterRole(
        metadata=client.V1ObjectMeta(name=reader),
        rules=[client.V1PolicyRule(api_groups=[""], resources=["nodes"],
                                   verbs=["get", "list"])]))  # fmt: skip
    rbac.create_cluster_role_binding(client.V1ClusterRoleBinding(
        metadata=client.V1ObjectMeta(name=reader),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole",
                                  name=reader),
        subjects=[client.RbacV1Subject(kind="User", name=reader,
                                       api_group="rbac.authorization.k8s.io")]))  # fmt: skip
    kube_cluster.create_node(name)
    try:
        with running_stack(settings) as stack:
            host = stack.add_host(name)
            r = stack.client.post(f"/v1/labels/{host['uuid']}", json={"zone": "a"})
            assert r.status_code == 200, r.text
            # Someone removes sysinv's label from the Node: drift the audit must repair.
            kube_cluster.core_v1().patch_node(name, {"metadata": {"labels": {"zone": None}}})

            # A conductor whose Kubernetes identity may read Nodes but not patch them.
            limited = settings.model_copy(deep=True)
            limited.kubernetes.kubeconfig = str(kube_cluster.kubeconfig_for(reader))
            ctx = ConductorContext.build(limited, stack.db)
            assert label_flows.audit(ctx).drift == []
            alarm = active(stack, "850.100", f"host={name}")
            assert alarm is not None, stack.client.get("/v1/alarms").json()
            assert "forbidden" in alarm["reason_text"].lower()
            assert alarm["severity"] == "major"

            # The platform's conductor repairs it: the alarm goes.
            assert [d.hostname for d in stack.rpc.label_audit().drift] == [name]
            assert active(stack, "850.100", f"host={name}") is None
            labels = kube_cluster.core_v1().read_node(name).metadata.labels
            assert labels["zone"] == "a"
    finally:
        kube_cluster.delete_node(name)
        rbac.delete_cluster_role_binding(reader)
        rbac.delete_cluster_role(reader)


@pytest.mark.redis
def test_configuration_failing_past_its_grace_raises_250_001_and_applying_it_clears(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path / "state")
    settings.messaging.broker_url = redis_url
    settings.agent.audit_interval = AUDIT_INTERVAL
    settings.fm.config_grace = 2
    with running_stack(settings) as stack:
        uid = uuid.uuid4().hex[:5]
        node = Node(tmp_path, stack, f"fm{uid}-1", f"02:00:00:{uid[:2]}:01:01", "192.168.204.71")
        entity = f"host={node.name}"
        try:
            # Its agent's docker restart fails: the configuration is never applied.
            monkeypatch.setenv("SYSINV_AGENT__RECORD_FAILURES", '["systemctl restart docker"]')
            node.start()

            def apply_failed() -> dict[str, Any] | None:
                with stack.db.session() as s:
                    row = s.scalars(select(Host).where(Host.hostname == node.name)).first()
                    behind = row and row.config_error and row.config_applied != row.config_target
                return node.host() if behind else None

            failed = wait_until("the apply failed", apply_failed, timeout=60)
            assert failed["availability"] == "online"
            alarm = wait_until("250.001 raised", lambda: active(stack, "250.001", entity),
                               timeout=settings.fm.config_grace + 30)  # fmt: skip
            assert alarm["severity"] == "major"
            assert "recorded failure" in alarm["reason_text"]  # the agent's own error
            assert failed["config_target"] in alarm["reason_text"]

            # Fixed (the agent restarts without the failure): applied, the alarm goes.
            assert node.proc is not None
            node.proc.stop()
            monkeypatch.delenv("SYSINV_AGENT__RECORD_FAILURES")
            node.start()
            wait_until("converged", node.converged, timeout=60)
            wait_until("250.001 cleared", lambda: active(stack, "250.001", entity) is None,
                       timeout=30)  # fmt: skip
        finally:
            if node.proc is not None:
                node.proc.stop()
