"""``/v1/storage_backend`` end to end: the API, the conductor, the real Ceph test cluster and
the real Kubernetes test cluster.

Each test leaves Ceph and Kubernetes as it found them (the fixture removes the backend and
whatever it made), since the backend's pool and user names are fixed by the charts.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rbd
from sqlalchemy import delete

from helm_overrides.platform import ceph as ceph_charts
from helm_overrides.platform.ceph_pools_audit import CephPoolsAuditPlugin
from helm_overrides.platform.rbd_provisioner import RbdProvisionerPlugin
from helm_overrides.plugin import NotConfigured
from helm_overrides.snapshot import ChartInput
from sysinv_common.conf import Settings
from sysinv_common.db.models import App, AppChart, Host
from sysinv_conductor.ceph.client import CephTarget, connect
from sysinv_conductor.flows import storage_backends
from sysinv_conductor.overrides.snapshot import build_snapshot
from tests.ceph_checks import SETTINGS, assert_key_confined_to
from tests.servers.ceph import CephCluster
from tests.servers.ports import free_port
from tests.stack import Stack, make_settings, running_stack

pytestmark = pytest.mark.kube

POOL = ceph_charts.POOL
SECRET = ceph_charts.USER_SECRET_NAME
NAMESPACES = ("kube-system", "default", "kube-public")
SERVICES_PATCH = [{"op": "replace", "path": "/services", "value": "rbd"}]
WRONG_KEY = "AQBhJ0xlAAAAABAAqKmMXkdgPBcEu5Z+Wx8nGA=="


@pytest.fixture(scope="module")
def stack(
    kube_cluster: Any, ceph_cluster: CephCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    settings = make_settings(tmp_path_factory.mktemp("ceph-stack"))
    on_test_servers(settings, kube_cluster, ceph_cluster)
    with running_stack(settings) as s:
        yield s


def on_test_servers(settings: Settings, kube: Any, ceph: CephCluster) -> None:
    """``settings`` for the session's Kubernetes and Ceph test clusters, audits off (the
    tests run them themselves)."""
    settings.kubernetes.kubeconfig = str(kube.kubeconfig)
    settings.kubernetes.label_audit_interval = 3600
    settings.ceph.monitors = list(ceph.monitors)
    settings.ceph.admin_keyring = ceph.admin_keyring
    settings.ceph.connect_timeout = 3
    settings.ceph.op_timeout = 10
    settings.ceph.audit_interval = 3600


def pools_of(ceph: CephCluster) -> list[str]:
    return ceph.ceph("osd", "pool", "ls").split()


def has_user(ceph: CephCluster, entity: str = "client.kube") -> bool:
    return entity in ceph.ceph("auth", "ls")


def secrets_of(kube: Any) -> list[str]:
    found = []
    for ns in NAMESPACES:
        names = [s.metadata.name for s in kube.core_v1().list_namespaced_secret(ns).items]
        if SECRET in names:
            found.append(ns)
    return found


@pytest.fixture
def clean(stack: Stack, ceph_cluster: CephCluster, kube_cluster: Any) -> Iterator[None]:
    """Nothing of a backend before or after the test, in sysinv, Ceph or Kubernetes."""
    yield
    for row in stack.client.get("/v1/storage_backend").json()["storage_backends"]:
        r = stack.client.delete(f"/v1/storage_backend/{row['uuid']}")
        assert r.status_code == 204, r.text
    with stack.db.session() as s:
        s.execute(delete(App))
        s.execute(delete(Host))
    if POOL in pools_of(ceph_cluster):
        ceph_cluster.delete_pool(POOL)
    if has_user(ceph_cluster):
        ceph_cluster.ceph("auth", "del", "client.kube")
    for ns in secrets_of(kube_cluster):
        kube_cluster.core_v1().delete_namespaced_secret(SECRET, ns)


def add(stack: Stack, **body: Any) -> dict[str, Any]:
    r = stack.client.post("/v1/storage_backend", json=body)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def assert_nothing_made(ceph: CephCluster, kube: Any) -> None:
    assert POOL not in pools_of(ceph)
    assert not has_user(ceph)
    assert secrets_of(kube) == []


def test_ceph_backend_makes_pool_key_and_secrets_the_provisioner_can_use(
    stack: Stack, ceph_cluster: CephCluster, kube_cluster: Any, clean: None
) -> None:
    row = add(stack, backend="ceph")
    assert (row["state"], row["reason"], row["name"]) == ("configured", None, "ceph-store")
    assert row["capabilities"] == {"replication": "1", "min_replication": "1"}
    assert row["fsid"] == ceph_cluster.fsid

    pool = ceph_cluster.ceph_json("osd", "pool", "get", POOL, "all")
    assert (pool["size"], pool["min_size"], pool["pg_autoscale_mode"]) == (1, 1, "on")
    assert set(ceph_cluster.ceph_json("osd", "pool", "application", "get", POOL)) == {"rbd"}
    user = ceph_cluster.ceph_json("auth", "get", "client.kube")[0]
    assert user["caps"] == {"mon": "profile rbd", "osd": f"profile rbd pool={POOL}"}
    assert sorted(secrets_of(kube_cluster)) == sorted(NAMESPACES)

    # The provisioner's key, as it reads it: from the Secret in kube-system.
    secret = kube_cluster.core_v1().read_namespaced_secret(SECRET, "kube-system")
    assert secret.type == "kubernetes.io/rbd"
    key = base64.b64decode(secret.data["key"]).decode()
    assert key == user["key"]
    other = f"test-other-{uuid.uuid4().hex[:6]}"
    ceph_cluster.ceph("osd", "pool", "create", other, "8")
    ceph_cluster.ceph("osd", "pool", "application", "enable", other, "rbd")
    try:
        assert_key_confined_to(ceph_cluster.monitors, "kube", key, POOL, other)
    finally:
        ceph_cluster.delete_pool(other)

    # show: the cluster's health and usage, read from Ceph.
    shown = stack.client.get("/v1/storage_backend/ceph-store").json()
    assert shown["health"] == "HEALTH_OK"
    assert shown["ceph"]["fsid"] == ceph_cluster.fsid
    assert shown["ceph"]["total_bytes"] >= 1024**3
    assert shown["ceph"]["osds_up"] >= 1

    # The charts' overrides come from the backend as configured.
    with stack.db.read_session() as s:
        snap = build_snapshot(s)
    chart = ChartInput("platform-integ-apps", "rbd-provisioner", "kube-system")
    values = RbdProvisionerPlugin().compute(snap, chart)
    assert values["classdefaults"] == {
        "monitors": ceph_cluster.monitors, "adminId": "kube", "adminSecretName": SECRET,
    }  # fmt: skip
    klass = values["classes"][0]
    assert (klass["pool_name"], klass["userId"], klass["userSecretName"]) == (POOL, "kube", SECRET)
    assert klass["replication"] == 1
    audit = CephPoolsAuditPlugin().compute(
        snap, ChartInput("platform-integ-apps", "ceph-pools-audit", "kube-system")
    )
    tier = audit["conf"]["ceph"]["storage_tiers"][0]
    assert (tier["replication"], tier["min_replication"]) == (1, 1)

    r = stack.client.delete(f"/v1/storage_backend/{row['uuid']}")
    assert r.status_code == 204, r.text
    assert_nothing_made(ceph_cluster, kube_cluster)
    with (
        stack.db.read_session() as s,
        pytest.raises(NotConfigured, match="storage backend ceph is not configured"),
    ):
        RbdProvisionerPlugin().compute(build_snapshot(s), chart)


def test_delete_keeps_a_pool_that_holds_an_image_and_removes_the_rest(
    stack: Stack, ceph_cluster: CephCluster, kube_cluster: Any, clean: None
) -> None:
    row = add(stack, backend="ceph")
    admin = CephTarget(
        monitors=tuple(ceph_cluster.monitors), keyring_path=ceph_cluster.admin_keyring
    )
    with connect(admin, SETTINGS) as client, client.ioctx(POOL) as io:
        rbd.RBD().create(io, "someones-volume", 4 * 1024 * 1024)
    r = stack.client.delete(f"/v1/storage_backend/{row['uuid']}")
    assert r.status_code == 204, r.text
    # The volume outlives the backend: its pool stays, the platform's key and Secrets go.
    assert POOL in pools_of(ceph_cluster)
    with connect(admin, SETTINGS) as client, client.ioctx(POOL) as io:
        assert rbd.RBD().list(io) == ["someones-volume"]
    assert not has_user(ceph_cluster)
    assert secrets_of(kube_cluster) == []


def test_replication_follows_the_storage_hosts_on_modify(
    stack: Stack, ceph_cluster: CephCluster, clean: None
) -> None:
    stack.add_host("controller-0", "controller")
    row = add(stack, backend="ceph")
    assert row["capabilities"] == {"replication": "1", "min_replication": "1"}
    stack.add_host("controller-1", "controller")
    r = stack.client.patch(f"/v1/storage_backend/{row['uuid']}", json=SERVICES_PATCH)
    assert r.status_code == 200, r.text
    assert r.json()["capabilities"] == {"replication": "2", "min_replication": "1"}
    pool = ceph_cluster.ceph_json("osd", "pool", "get", POOL, "all")
    assert (pool["size"], pool["min_size"]) == (2, 1)
    stack.add_host("storage-0", "storage")
    stack.add_host("worker-0", "worker")  # no OSDs on a worker
    r = stack.client.patch(f"/v1/storage_backend/{row['uuid']}", json=SERVICES_PATCH)
    assert r.json()["capabilities"] == {"replication": "3", "min_replication": "2"}
    pool = ceph_cluster.ceph_json("osd", "pool", "get", POOL, "all")
    assert (pool["size"], pool["min_size"]) == (3, 2)


def test_the_audit_changes_replication_when_storage_hosts_are_added(
    stack: Stack, ceph_cluster: CephCluster, clean: None
) -> None:
    row = add(stack, backend="ceph")
    assert row["capabilities"] == {"replication": "1", "min_replication": "1"}
    stack.add_host("controller-0", "controller")
    stack.add_host("controller-1", "controller")
    storage_backends.audit_health(stack.conductor.ctx)
    pool = ceph_cluster.ceph_json("osd", "pool", "get", POOL, "all")
    assert (pool["size"], pool["min_size"]) == (2, 1)
    shown = stack.client.get(f"/v1/storage_backend/{row['uuid']}").json()
    assert shown["capabilities"] == {"replication": "2", "min_replication": "1"}
    # The charts follow: their replication is the backend's.
    with stack.db.read_session() as s:
        snap = build_snapshot(s)
    chart = ChartInput("platform-integ-apps", "rbd-provisioner", "kube-system")
    assert RbdProvisionerPlugin().compute(snap, chart)["classes"][0]["replication"] == 2


def test_external_cluster_with_its_admin_keyring_is_configured(
    stack: Stack, ceph_cluster: CephCluster, kube_cluster: Any, clean: None
) -> None:
    row = add(stack, backend="ceph-external", monitors=ceph_cluster.monitors,
              fsid=ceph_cluster.fsid, keyring_path=str(ceph_cluster.admin_keyring))  # fmt: skip
    assert (row["state"], row["name"]) == ("configured", "ceph-ext-store")
    # Only the keyring's path is kept, never its key.
    assert row["keyring_path"] == str(ceph_cluster.admin_keyring)
    assert ceph_cluster.admin_key() not in str(stack.client.get("/v1/storage_backend").json())
    # A CRUSH map with one host: one copy.
    assert row["capabilities"] == {"replication": "1", "min_replication": "1"}
    assert has_user(ceph_cluster) and POOL in pools_of(ceph_cluster)
    assert sorted(secrets_of(kube_cluster)) == sorted(NAMESPACES)


@pytest.mark.parametrize("fault", ["wrong keyring", "unreachable monitors", "other fsid"])
def test_external_cluster_failure_is_clear_and_leaves_nothing(
    stack: Stack, ceph_cluster: CephCluster, kube_cluster: Any, clean: None, tmp_path: Path,
    fault: str,
) -> None:  # fmt: skip
    monitors = list(ceph_cluster.monitors)
    keyring = ceph_cluster.admin_keyring
    fsid = ceph_cluster.fsid
    if fault == "wrong keyring":
        keyring = tmp_path / "wrong.keyring"
        keyring.write_text(f"[client.admin]\n\tkey = {WRONG_KEY}\n")
        expected = "a key they do not know"
    elif fault == "unreachable monitors":
        monitors = [f"127.0.0.1:{free_port()}"]
        expected = f"no Ceph monitor at {monitors[0]} accepted client.admin within 3 s"
    else:
        fsid = str(uuid.uuid4())
        expected = f"has fsid {ceph_cluster.fsid}, not {fsid}"
    row = add(stack, backend="ceph-external", monitors=monitors, fsid=fsid,
              keyring_path=str(keyring))  # fmt: skip
    assert row["state"] == "failed"
    assert expected in row["reason"]
    assert_nothing_made(ceph_cluster, kube_cluster)
    listed = stack.client.get("/v1/storage_backend").json()["storage_backends"]
    assert [(b["state"], b["reason"]) for b in listed] == [("failed", row["reason"])]
    shown = stack.client.get(f"/v1/storage_backend/{row['uuid']}").json()
    assert (shown["health"], shown["ceph"]) == ("unknown: the backend is failed", None)


def test_a_failed_backend_is_retried_by_modify_and_an_empty_fsid_clears_it(
    stack: Stack, ceph_cluster: CephCluster, kube_cluster: Any, clean: None, tmp_path: Path
) -> None:
    keyring = tmp_path / "admin.keyring"  # not there yet
    other = str(uuid.uuid4())
    row = add(stack, backend="ceph-external", monitors=ceph_cluster.monitors, fsid=other,
              keyring_path=str(keyring))  # fmt: skip
    assert row["state"] == "failed"
    # As StarlingX: a failed backend is not added again but retried with modify.
    body = {"backend": "ceph-external", "monitors": ceph_cluster.monitors,
            "keyring_path": str(keyring)}  # fmt: skip
    r = stack.client.post("/v1/storage_backend", json=body)
    assert r.status_code == 400
    assert "use storage-backend-modify to retry it" in r.json()["error_message"]
    keyring.write_text(Path(ceph_cluster.admin_keyring).read_text())
    keyring.chmod(0o600)
    # A modify with no change retries it as it is: now the cluster answers, with its fsid.
    r = stack.client.patch(f"/v1/storage_backend/{row['uuid']}", json=[])
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["fsid"]) == ("failed", other)
    assert f"has fsid {ceph_cluster.fsid}, not {other}" in r.json()["reason"]
    assert_nothing_made(ceph_cluster, kube_cluster)
    # JSON-Patch's remove clears the fsid: any cluster's is taken, and recorded.
    uri = f"/v1/storage_backend/{row['uuid']}"
    r = stack.client.patch(uri, json=[{"op": "remove", "path": "/fsid"}])
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["fsid"]) == ("configured", ceph_cluster.fsid)
    assert POOL in pools_of(ceph_cluster) and has_user(ceph_cluster)
    # Nothing to retry once configured: a modify with no change is refused.
    r = stack.client.patch(uri, json=[])
    assert r.status_code == 400
    assert "No changes to the existing backend settings were detected" in r.text
    # Another cluster's fsid fails it again; an empty one (the client's fsid=) clears it.
    r = stack.client.patch(uri, json=[{"op": "replace", "path": "/fsid", "value": other}])
    assert (r.json()["state"], r.json()["fsid"]) == ("failed", other)
    r = stack.client.patch(uri, json=[{"op": "replace", "path": "/fsid", "value": ""}])
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["fsid"]) == ("configured", ceph_cluster.fsid)


def test_a_failure_after_the_pool_removes_what_was_made(
    stack: Stack, ceph_cluster: CephCluster, kube_cluster: Any, clean: None
) -> None:
    """The Kubernetes Secrets cannot be written (a namespace that refuses them): the pool
    and key made before are removed again."""
    kube_cluster.core_v1().create_namespace({"metadata": {"name": "gone-soon"}})
    kube_cluster.core_v1().delete_namespace("gone-soon")
    original = ceph_charts.SECRET_NAMESPACES
    ceph_charts.SECRET_NAMESPACES = (*original, "gone-soon")
    try:
        row = add(stack, backend="ceph")
    finally:
        ceph_charts.SECRET_NAMESPACES = original
    assert row["state"] == "failed"
    assert "Secret gone-soon/ceph-pool-kube-rbd cannot be created" in row["reason"]
    assert_nothing_made(ceph_cluster, kube_cluster)


def test_delete_is_refused_while_an_applied_app_uses_the_pool(
    stack: Stack, ceph_cluster: CephCluster, clean: None
) -> None:
    row = add(stack, backend="ceph")
    with stack.db.session() as s:
        app = App(name="platform-integ-apps", app_version="1.0", status="applied")
        app.charts = [AppChart(chart_name="rbd-provisioner", namespace="kube-system")]
        s.add(app)
    r = stack.client.delete(f"/v1/storage_backend/{row['uuid']}")
    assert r.status_code == 400
    assert "in use by applied application(s) platform-integ-apps" in r.json()["error_message"]
    assert POOL in pools_of(ceph_cluster) and has_user(ceph_cluster)
    with stack.db.session() as s:
        s.execute(delete(App))
    assert stack.client.delete(f"/v1/storage_backend/{row['uuid']}").status_code == 204


def test_only_one_ceph_backend_and_clear_refusals(stack: Stack, clean: None) -> None:
    add(stack, backend="ceph")
    body = {"backend": "ceph-external", "monitors": ["10.0.0.1:6789"], "keyring_path": "/k"}
    r = stack.client.post("/v1/storage_backend", json=body)
    assert r.status_code == 400
    assert "already exists: a system has one Ceph backend" in r.json()["error_message"]
    r = stack.client.post("/v1/storage_backend", json={"backend": "lvm"})
    assert r.status_code == 400 and "Unsupported storage backend 'lvm'" in r.text
    r = stack.client.get("/v1/storage_backend/nothing-here")
    assert r.status_code == 404


def ceph_alarms(stack: Stack) -> list[dict[str, Any]]:
    rows = stack.client.get("/v1/alarms").json()["alarms"]
    return [a for a in rows if a["alarm_id"] == "800.001"]


def test_health_other_than_ok_raises_the_storage_alarm_and_ok_clears_it(
    stack: Stack, ceph_cluster: CephCluster, clean: None
) -> None:
    ctx = stack.conductor.ctx
    assert storage_backends.audit_health(ctx) is None  # no backend: nothing to watch
    add(stack, backend="ceph")
    assert storage_backends.audit_health(ctx) == "HEALTH_OK"
    assert ceph_alarms(stack) == []
    ceph_cluster.ceph("osd", "set", "noout")  # a flag Ceph warns about: HEALTH_WARN
    try:
        assert storage_backends.audit_health(ctx) == "HEALTH_WARN"
        (alarm,) = ceph_alarms(stack)
        assert alarm["entity_instance_id"] == f"cluster={ceph_cluster.fsid}"
        assert alarm["severity"] == "major"
        assert (
            "Storage Alarm Condition: HEALTH_WARN (OSDMAP_FLAGS: noout flag" in alarm["reason_text"]
        )
        # show says the same, read from the cluster.
        assert stack.client.get("/v1/storage_backend/ceph-store").json()["health"] == "HEALTH_WARN"
    finally:
        ceph_cluster.ceph("osd", "unset", "noout")
    assert storage_backends.audit_health(ctx) == "HEALTH_OK"
    assert ceph_alarms(stack) == []


def test_a_cluster_that_does_not_answer_raises_a_critical_storage_alarm(
    stack: Stack, ceph_cluster: CephCluster, clean: None
) -> None:
    add(stack, backend="ceph")
    assert ceph_cluster.mon is not None
    ceph_cluster.mon.proc.send_signal(19)  # SIGSTOP: the monitor stops answering
    try:
        assert storage_backends.audit_health(stack.conductor.ctx) == "unreachable"
        (alarm,) = ceph_alarms(stack)
        assert alarm["severity"] == "critical"
        assert "Storage Alarm Condition: unreachable (no Ceph monitor at" in alarm["reason_text"]
        shown = stack.client.get("/v1/storage_backend/ceph-store").json()
        assert shown["health"].startswith("unknown: no Ceph monitor at")
        assert shown["ceph"] is None
    finally:
        ceph_cluster.mon.proc.send_signal(18)  # SIGCONT
    assert storage_backends.audit_health(stack.conductor.ctx) == "HEALTH_OK"
    assert ceph_alarms(stack) == []
