"""``GET /v1/apps/{name}/plan`` (``application-apply|remove --dry-run``) on the real
cluster with helm 3 and helm 4: the right actions, changed keys and fields, read by a
reader, and nothing in the cluster changed by asking."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from sysinv_common.db.models import AppBundle, AppRelease, GeneratedSecret
from tests.api.test_hosts import fault
from tests.auth.conftest import keystone_settings
from tests.integration.example_app import build_variant
from tests.servers.helm import HelmBinary
from tests.servers.keystone import KeystoneServer
from tests.stack import Stack, make_settings, running_stack, wait_done

pytestmark = pytest.mark.kube
APP = "hello-app"
CHARTS = ["hello-config", "hello-web", "hello-worker-a", "hello-worker-b"]


@pytest.fixture
def secured_apps(
    kube_cluster: Any, helm: HelmBinary, keystone: KeystoneServer, tmp_path: Path
) -> Iterator[tuple[Stack, dict[str, str]]]:
    """A stack with authentication on, deploying with ``helm``; its client is the admin,
    and the reader's headers come with it."""
    settings = keystone_settings(make_settings(tmp_path / "state"), keystone)
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm.path)
    settings.kubernetes.label_audit_interval = 3600
    with running_stack(settings) as stack:
        stack.client.headers["X-Auth-Token"] = keystone.token(keystone.admin)
        yield stack, {"X-Auth-Token": keystone.token(keystone.reader)}


def upload(stack: Stack, bundle: Path) -> None:
    body = {"tarfile": str(bundle),
            "binary_data": base64.urlsafe_b64encode(bundle.read_bytes()).decode()}  # fmt: skip
    r = stack.client.post("/v1/apps", json=body)
    assert r.status_code == 200, r.text
    assert wait_done(stack, APP)["status"] == "uploaded"


def apply(stack: Stack) -> None:
    r = stack.client.patch(f"/v1/apps/{APP}?directive=apply", json={"values": {}})
    assert r.status_code == 200, r.text
    app = wait_done(stack, APP)
    assert (app["status"], app["progress"]) == ("applied", "completed"), app


def plan(stack: Stack, reader: dict[str, str], operation: str) -> dict[str, Any]:
    r = stack.client.get(f"/v1/apps/{APP}/plan", params={"operation": operation}, headers=reader)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def plan_of(stack: Stack, reader: dict[str, str], app: str, operation: str) -> dict[str, Any]:
    r = stack.client.get(f"/v1/apps/{app}/plan", params={"operation": operation}, headers=reader)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def by_chart(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["chart"]: c for c in answer["charts"]}


#: What changes on its own, plan or not: kwok's node heartbeats and leases, events.
ALIVE = {"nodes", "leases", "events"}


def _get(api: client.ApiClient, path: str) -> dict[str, Any]:
    data, _, _ = api.call_api(path, "GET", response_type="object", auth_settings=["BearerToken"],
                              _return_http_data_only=False)  # fmt: skip
    return dict(data)


def cluster_state(kube_cluster: Any, namespace: str) -> dict[str, str]:
    """Every object's resourceVersion, of every resource type the API server lists (found
    by discovery): all of the cluster-scoped ones, and the namespaced ones in the app's
    ``namespace`` (other tests' namespaces change as they please); by type/namespace/name.
    Only what changes by itself (``ALIVE``) is left out."""
    api = kube_cluster.api_client()
    versions = ["/api/v1"]
    for group in _get(api, "/apis")["groups"]:
        versions.append(f"/apis/{group['preferredVersion']['groupVersion']}")
    out: dict[str, str] = {}
    for base in versions:
        for res in _get(api, base)["resources"]:
            name = res["name"]
            if "/" in name or "list" not in res.get("verbs", []) or name in ALIVE:
                continue
            path = (
                f"{base}/namespaces/{namespace}/{name}" if res["namespaced"] else f"{base}/{name}"
            )
            for item in _get(api, path).get("items") or []:
                meta = item["metadata"]
                key = f"{base}/{name}/{meta.get('namespace', '')}/{meta['name']}"
                # Computed lists (componentstatuses) have none: their presence still counts.
                out[key] = meta.get("resourceVersion", "")
    return out


def settled_state(kube_cluster: Any, namespace: str) -> dict[str, str]:
    """``cluster_state`` once the cluster's own controllers are done with it (a new
    cluster's aggregated ClusterRoles and ServiceCIDR are updated for a while after it
    starts): the same twice, a second apart."""
    deadline = time.monotonic() + 60
    state = cluster_state(kube_cluster, namespace)
    while True:
        time.sleep(1)
        again = cluster_state(kube_cluster, namespace)
        if again == state:
            return state
        assert time.monotonic() < deadline, "the cluster does not settle"
        state = again


def releases(kube_cluster: Any, namespace: str) -> dict[str, str]:
    """helm's release records (one Secret per revision) in ``namespace``."""
    secrets = kube_cluster.core_v1().list_namespaced_secret(namespace, label_selector="owner=helm")
    return {s.metadata.name: s.metadata.resource_version for s in secrets.items}


def test_plan_names_actions_changes_and_changes_nothing(
    secured_apps: tuple[Stack, dict[str, str]], kube_cluster: Any, helm: HelmBinary,
    tmp_path: Path,
) -> None:  # fmt: skip
    stack, reader = secured_apps
    ns = f"plan-{uuid.uuid4().hex[:6]}"
    upload(stack, build_variant(helm, tmp_path / "build", ns))

    # Before the first apply: every chart installed, in execution order, and nothing made.
    before = settled_state(kube_cluster, ns)
    first = plan(stack, reader, "apply")
    assert set(first) == {"name", "operation", "app_version", "target_version", "charts"}
    assert first["target_version"] is None
    assert (first["name"], first["operation"]) == (APP, "apply")
    assert [c["chart"] for c in first["charts"]] == CHARTS
    assert {c["action"] for c in first["charts"]} == {"install"}
    config = by_chart(first)["hello-config"]
    assert config["release"] == f"hello-config-{ns}" and config["namespace"] == ns
    assert {(o["kind"], o["name"], o["change"]) for o in config["objects"]} == {
        ("ConfigMap", f"hello-config-{ns}-settings", "added"),
        ("Secret", f"hello-config-{ns}-credentials", "added"),
    }
    assert {"path": "settings.greeting", "source": "chart", "change": "added", "old": None,
            "new": "Hello from the hello-app bundle"} in config["overrides"]  # fmt: skip
    assert cluster_state(kube_cluster, ns) == before
    assert kube_cluster.core_v1().list_namespace(field_selector=f"metadata.name={ns}").items == []

    apply(stack)
    again = plan(stack, reader, "apply")
    assert [(c["chart"], c["action"]) for c in again["charts"]] == [
        (c, "unchanged") for c in CHARTS
    ]
    assert all(c["deployed_revision"] == 1 and not c["objects"] and not c["overrides"]
               for c in again["charts"])  # fmt: skip

    # The operator changes a greeting and a password, and disables the workers (one chart,
    # two releases).
    url = f"/v1/helm_charts/{APP}"
    r = stack.client.patch(url, params={"name": "hello-config", "namespace": ns}, json={
        "flags": {"reuse_values": False, "reset_values": True},
        "values": {"files": [], "set": ["settings.greeting=Hi from a plan",
                                        "credentials.password=plan-pw-9f3"]},
        "attributes": {},
    })  # fmt: skip
    assert r.status_code == 200, r.text
    disable = {"flags": {}, "values": {}, "attributes": {"enabled": "false"}}
    r = stack.client.patch(url, params={"name": "hello-worker", "namespace": ns}, json=disable)
    assert r.status_code == 200, r.text

    before = settled_state(kube_cluster, ns)
    revisions = releases(kube_cluster, ns)
    with stack.db.session() as s:
        recorded = {(r.release, r.revision) for r in s.query(AppRelease).all()}
        secrets_before = s.query(GeneratedSecret).count()
    changed = plan(stack, reader, "apply")
    assert [(c["chart"], c["action"], c["reason"]) for c in changed["charts"]] == [
        ("hello-config", "upgrade", None),
        ("hello-web", "unchanged", None),
        ("hello-worker-a", "remove", "disabled"),
        ("hello-worker-b", "remove", "disabled"),
    ]
    config = by_chart(changed)["hello-config"]
    keys = {(o["path"], o["source"], o["change"]) for o in config["overrides"]}
    assert keys == {("settings.greeting", "user", "changed"),
                    ("credentials.password", "user", "added")}  # fmt: skip
    objects = {(o["kind"], o["change"]): o for o in config["objects"]}
    assert set(objects) == {("ConfigMap", "changed"), ("Secret", "changed")}
    assert objects[("ConfigMap", "changed")]["fields"] == [
        {"path": "data.GREETING", "old": "Hello from the hello-app bundle",
         "new": "Hi from a plan"},
    ]  # fmt: skip
    # A Secret's payload is masked: which key changes, never its value.
    assert objects[("Secret", "changed")]["fields"] == [
        {"path": "data.password", "old": "******", "new": "******"}
    ]
    assert base64.b64encode(b"plan-pw-9f3").decode() not in json.dumps(changed)
    worker_b = by_chart(changed)["hello-worker-b"]
    assert worker_b["objects"] and {o["change"] for o in worker_b["objects"]} == {"removed"}
    assert "Deployment" in {o["kind"] for o in worker_b["objects"]}

    # The remove: the releases of the enabled charts uninstalled, in reverse order (as
    # the remove itself runs, it leaves the disabled charts' releases to an apply).
    removal = plan(stack, reader, "remove")
    assert [(c["chart"], c["action"]) for c in removal["charts"]] == [
        ("hello-web", "remove"), ("hello-config", "remove"),
    ]  # fmt: skip
    web = by_chart(removal)["hello-web"]
    assert {(o["kind"], o["change"]) for o in web["objects"]} >= {
        ("Deployment", "removed"), ("Service", "removed"), ("ConfigMap", "removed"),
    }  # fmt: skip

    # Nothing changed by planning: objects, helm's releases, our records, our secrets.
    assert cluster_state(kube_cluster, ns) == before
    assert releases(kube_cluster, ns) == revisions
    with stack.db.session() as s:
        assert {(r.release, r.revision) for r in s.query(AppRelease).all()} == recorded
        assert s.query(GeneratedSecret).count() == secrets_before
    assert stack.client.get(f"/v1/apps/{APP}").json()["status"] == "applied"

    # What the plan said is what the apply does.
    apply(stack)
    after = plan(stack, reader, "apply")
    assert [(c["chart"], c["action"]) for c in after["charts"]] == [
        ("hello-config", "unchanged"), ("hello-web", "unchanged"),
    ]  # fmt: skip
    cm = kube_cluster.core_v1().read_namespaced_config_map(f"hello-config-{ns}-settings", ns)
    assert cm.data["GREETING"] == "Hi from a plan"


def test_plan_update(
    secured_apps: tuple[Stack, dict[str, str]], kube_cluster: Any, helm: HelmBinary,
    tmp_path: Path,
) -> None:  # fmt: skip
    """Old version to new: a changed chart document value, a release only the old version
    has; the new bundle is read into a private directory and nothing else is written."""
    stack, reader = secured_apps
    ns = f"planup-{uuid.uuid4().hex[:6]}"
    upload(stack, build_variant(helm, tmp_path / "v1", ns))
    apply(stack)
    new = build_variant(helm, tmp_path / "v2", ns, version="2.0-1", greeting="Hello from 2.0",
                        without=("hello-worker-b",))  # fmt: skip
    imports = stack.settings.import_dirs[0]
    imports.mkdir(parents=True, exist_ok=True)
    tarfile = imports / new.name
    tarfile.write_bytes(new.read_bytes())

    before = settled_state(kube_cluster, ns)
    revisions = releases(kube_cluster, ns)
    with stack.db.session() as s:
        bundles = s.query(AppBundle).count()
    r = stack.client.get(f"/v1/apps/{APP}/plan", headers=reader,
                         params={"operation": "update", "tarfile": str(tarfile)})  # fmt: skip
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["app_version"], answer["target_version"]) == ("1.0-1", "2.0-1")
    assert [(c["chart"], c["action"], c["reason"]) for c in answer["charts"]] == [
        ("hello-config", "upgrade", None),
        ("hello-web", "unchanged", None),
        ("hello-worker-a", "unchanged", None),
        ("hello-worker-b", "remove", "not in 2.0-1"),
    ]
    config = by_chart(answer)["hello-config"]
    assert config["overrides"] == [{"path": "settings.greeting", "source": "chart",
                                    "change": "changed", "old": "Hello from the hello-app bundle",
                                    "new": "Hello from 2.0"}]  # fmt: skip
    assert [(o["kind"], [f["path"] for f in o["fields"]]) for o in config["objects"]] == [
        ("ConfigMap", ["data.GREETING"]),
    ]
    assert cluster_state(kube_cluster, ns) == before
    assert releases(kube_cluster, ns) == revisions
    with stack.db.session() as s:
        assert s.query(AppBundle).count() == bundles
    shown = stack.client.get(f"/v1/apps/{APP}").json()
    assert (shown["status"], shown["app_version"]) == ("applied", "1.0-1")
    assert not list((stack.settings.state_dir / "work").glob("plan-*"))

    r = stack.client.get(f"/v1/apps/{APP}/plan", params={"operation": "update"}, headers=reader)
    assert r.status_code == 400
    assert "name the new version's bundle" in fault(r)
    outside = tmp_path / "elsewhere.tgz"
    outside.write_bytes(new.read_bytes())
    r = stack.client.get(f"/v1/apps/{APP}/plan", headers=reader,
                         params={"operation": "update", "tarfile": str(outside)})  # fmt: skip
    assert r.status_code == 400
    assert "outside the import directories" in fault(r)


def test_plan_of_another_apps_releases_is_refused_as_its_apply(
    secured_apps: tuple[Stack, dict[str, str]], kube_cluster: Any, helm: HelmBinary,
    tmp_path: Path,
) -> None:  # fmt: skip
    """What the apply would refuse, the plan refuses with the apply's words."""
    stack, reader = secured_apps
    ns = f"planown-{uuid.uuid4().hex[:6]}"
    upload(stack, build_variant(helm, tmp_path / "a", ns))
    apply(stack)
    other = build_variant(helm, tmp_path / "b", ns, app_name="app-b")
    body = {"tarfile": str(other),
            "binary_data": base64.urlsafe_b64encode(other.read_bytes()).decode()}  # fmt: skip
    assert stack.client.post("/v1/apps", json=body).status_code == 200
    assert wait_done(stack, "app-b")["status"] == "uploaded"
    revisions = releases(kube_cluster, ns)
    r = stack.client.get("/v1/apps/app-b/plan", headers=reader)
    assert r.status_code == 400, r.text
    message = fault(r)
    assert message.startswith("Application-apply of app-b rejected: release ")
    assert f"release hello-config-{ns} in namespace {ns} belongs to application {APP}" in message
    # Its remove would leave them alone, as the remove does.
    removal = plan_of(stack, reader, "app-b", "remove")
    assert {(c["action"], c["reason"]) for c in removal["charts"]} == {
        ("unchanged", f"belongs to application {APP}")
    }
    assert releases(kube_cluster, ns) == revisions


def test_plan_refusals(secured_apps: tuple[Stack, dict[str, str]], helm: HelmBinary) -> None:
    stack, reader = secured_apps
    r = stack.client.get(f"/v1/apps/{APP}/plan", headers=reader)
    assert r.status_code == 400
    assert f"application {APP} not found" in fault(r)
    r = stack.client.get(f"/v1/apps/{APP}/plan", params={"operation": "upgrade"}, headers=reader)
    assert r.status_code == 400
    assert "unknown operation 'upgrade'" in fault(r)
