"""The OpenStack charts' Ceph pools end to end: the API, the conductor, the real Ceph test
cluster and the real Kubernetes test cluster, with an application of small charts named
glance, nova and libvirt (tests/helm_charts/mini_app.py) so that their override plugins apply.

The pool, user and Secret names are fixed by the charts, so each test leaves Ceph and
Kubernetes as it found them (the ``clean`` fixture).
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rbd
import yaml
from sqlalchemy import delete

from helm_overrides.platform import ceph as ceph_charts
from sysinv_common.db.models import Host
from sysinv_conductor.ceph.client import CephTarget, connect
from sysinv_conductor.flows import storage_backends
from tests.ceph_checks import SETTINGS, assert_key_confined_to
from tests.helm_charts.mini_app import APP_NAME, build_mini_app
from tests.helm_charts.topologies import TOPOLOGIES, build_hosts, topology_settings
from tests.integration.test_apps_lifecycle import upload_body
from tests.integration.test_openstack_app import strip_labels
from tests.integration.test_storage_backend_ceph import on_test_servers
from tests.servers.ceph import CephCluster
from tests.servers.helm import HelmBinary
from tests.stack import Stack, running_stack, wait_done

pytestmark = pytest.mark.kube

APP = f"/v1/apps/{APP_NAME}"
NAMESPACE = "openstack"
POOLS = ("images", "ephemeral")
USERS = ("client.images", "client.cinder")
SECRETS = ("images-rbd-keyring", "cinder-rbd-keyring")
CONF = "sysinv-ceph-etc"
TOPOLOGY = TOPOLOGIES["aio-simplex"]


@pytest.fixture(scope="module")
def bundle(helm4: HelmBinary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_mini_app(helm4, tmp_path_factory.mktemp("osp"), only={"glance", "nova", "libvirt"})


@pytest.fixture
def stack(
    kube_cluster: Any, ceph_cluster: CephCluster, helm4: HelmBinary, tmp_path: Path
) -> Iterator[Stack]:
    settings = topology_settings(tmp_path / "state", TOPOLOGY, None, str(helm4.path))
    on_test_servers(settings, kube_cluster, ceph_cluster)
    strip_labels(kube_cluster)
    with running_stack(settings) as s:
        build_hosts(s, TOPOLOGY, unlock=True)
        try:
            yield s
        finally:
            _clean(s, ceph_cluster, kube_cluster)
    strip_labels(kube_cluster)


def _clean(stack: Stack, ceph: CephCluster, kube: Any) -> None:
    """Nothing of the app or the backend after the test, in sysinv, Ceph or Kubernetes."""
    r = stack.client.get(APP)
    if r.status_code == 200:
        if r.json()["status"] not in ("uploaded", "upload-failed"):
            stack.client.patch(f"{APP}?directive=remove", json={"values": {}})
            wait_done(stack, APP_NAME, timeout=180)
        stack.client.delete(APP)
    for row in stack.client.get("/v1/storage_backend").json()["storage_backends"]:
        stack.client.delete(f"/v1/storage_backend/{row['uuid']}")
    with stack.db.session() as s:
        s.execute(delete(Host))
    for pool in (*POOLS, ceph_charts.POOL):
        if pool in pools_of(ceph):
            ceph.delete_pool(pool)
    for entity in (*USERS, "client.kube"):
        if entity in ceph.ceph("auth", "ls"):
            ceph.ceph("auth", "del", entity)
    core = kube.core_v1()
    for name in SECRETS:
        if name in secrets_of(kube):
            core.delete_namespaced_secret(name, NAMESPACE)
    if config_maps(kube):
        core.delete_namespaced_config_map(CONF, NAMESPACE)


def config_maps(kube: Any) -> list[str]:
    items = kube.core_v1().list_namespaced_config_map(NAMESPACE).items
    return [c.metadata.name for c in items if c.metadata.name == CONF]


def pools_of(ceph: CephCluster) -> list[str]:
    return ceph.ceph("osd", "pool", "ls").split()


def secrets_of(kube: Any) -> list[str]:
    try:
        items = kube.core_v1().list_namespaced_secret(NAMESPACE).items
    except Exception:  # no namespace yet
        return []
    return [s.metadata.name for s in items if s.metadata.name in SECRETS]


def upload(stack: Stack, bundle: Path) -> None:
    r = stack.client.post("/v1/apps", json=upload_body(bundle))
    assert r.status_code == 200, r.text
    assert wait_done(stack, APP_NAME)["status"] == "uploaded"


def apply(stack: Stack) -> dict[str, Any]:
    r = stack.client.patch(f"{APP}?directive=apply", json={"values": {}})
    assert r.status_code == 200, r.text
    app = wait_done(stack, APP_NAME, timeout=240)
    assert (app["status"], app["progress"]) == ("applied", "completed"), app
    return app


def system_overrides(stack: Stack, chart: str) -> dict[str, Any]:
    r = stack.client.get(f"/v1/helm_charts/{APP_NAME}",
                         params={"name": chart, "namespace": NAMESPACE})  # fmt: skip
    assert r.status_code == 200, r.text
    values: dict[str, Any] = yaml.safe_load(r.json()["system_overrides"]) or {}
    return values


def deployed_values(helm: HelmBinary, kube: Any, home: Path, release: str) -> dict[str, Any]:
    """The values helm deployed the release with."""
    res = subprocess.run(
        [str(helm.path), "--kubeconfig", str(kube.kubeconfig), "get", "values", release,
         "-n", NAMESPACE, "-o", "json"],
        env=helm.env(home), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    values: dict[str, Any] = json.loads(res.stdout)
    return values


def pool_facts(ceph: CephCluster, pool: str) -> tuple[int, int, str, set[str]]:
    info = ceph.ceph_json("osd", "pool", "get", pool, "all")
    apps = set(ceph.ceph_json("osd", "pool", "application", "get", pool))
    return info["size"], info["min_size"], info["pg_autoscale_mode"], apps


def user_of(ceph: CephCluster, entity: str) -> dict[str, Any]:
    found: dict[str, Any] = ceph.ceph_json("auth", "get", entity)[0]
    return found


def secret_key(kube: Any, name: str) -> str:
    secret = kube.core_v1().read_namespaced_secret(name, NAMESPACE)
    assert secret.type == "kubernetes.io/rbd"
    return base64.b64decode(secret.data["key"]).decode()


def test_applying_glance_and_nova_makes_their_pools_users_and_secrets(
    stack: Stack, ceph_cluster: CephCluster, kube_cluster: Any, helm4: HelmBinary,
    helm_home: Path, bundle: Path,
) -> None:  # fmt: skip
    r = stack.client.post("/v1/storage_backend", json={"backend": "ceph"})
    assert r.status_code == 200 and r.json()["state"] == "configured", r.text
    backend = r.json()["uuid"]
    upload(stack, bundle)
    apply(stack)

    for pool in POOLS:
        assert pool_facts(ceph_cluster, pool) == (1, 1, "on", {"rbd"}), pool
    images, cinder = (user_of(ceph_cluster, e) for e in USERS)
    assert images["caps"] == {"mon": "profile rbd", "osd": "profile rbd pool=images"}
    assert cinder["caps"] == {
        "mon": "profile rbd",
        "osd": "profile rbd pool=ephemeral, profile rbd-read-only pool=images",
    }
    assert secret_key(kube_cluster, "images-rbd-keyring") == images["key"]
    assert secret_key(kube_cluster, "cinder-rbd-keyring") == cinder["key"]

    # Each key, read back from its Secret, works in its own pool and nowhere else: glance's
    # not in nova's pool, nova's not in the platform's, and nova only reads glance's.
    monitors = ceph_cluster.monitors
    assert_key_confined_to(monitors, "images", images["key"], "images", "ephemeral")
    assert_key_confined_to(monitors, "cinder", cinder["key"], "ephemeral", ceph_charts.POOL)
    assert_key_confined_to(monitors, "cinder", cinder["key"], "ephemeral", "images")

    # The overrides name them, and helm deployed the charts with them.
    glance = deployed_values(helm4, kube_cluster, helm_home, "mini-glance")
    assert glance["storage"] == "rbd"
    store = glance["conf"]["glance"]["glance_store"]
    assert (store["rbd_store_pool"], store["rbd_store_user"], store["rbd_store_replication"]) == (
        "images", "images", 1)  # fmt: skip
    assert glance["conf"]["ceph"]["monitors"] == monitors
    assert glance["secrets"]["rbd"] == "images-rbd-keyring"
    assert glance["manifests"]["job_storage_init"] is False
    nova = deployed_values(helm4, kube_cluster, helm_home, "mini-nova")
    libvirt = nova["conf"]["nova"]["libvirt"]
    assert (libvirt["images_type"], libvirt["images_rbd_pool"], libvirt["rbd_user"]) == (
        "rbd", "ephemeral", "cinder")  # fmt: skip
    assert libvirt["rbd_secret_uuid"] == nova["conf"]["ceph"]["cinder"]["secret_uuid"]
    assert nova["ceph_client"]["user_secret_name"] == "cinder-rbd-keyring"
    # Both charts read the monitors from the ceph.conf the conductor wrote beside the keys.
    assert glance["ceph_client"]["configmap"] == nova["ceph_client"]["configmap"] == CONF
    conf = kube_cluster.core_v1().read_namespaced_config_map(CONF, NAMESPACE)
    assert conf.data["ceph.conf"] == f"[global]\nmon_host = {','.join(monitors)}\n"
    assert system_overrides(stack, "nova")["conf"]["nova"]["libvirt"] == libvirt
    # libvirt defines nova's secret on the compute nodes: the same user, UUID and key.
    hypervisor = deployed_values(helm4, kube_cluster, helm_home, "mini-libvirt")
    assert hypervisor["conf"]["ceph"]["cinder"] == nova["conf"]["ceph"]["cinder"] == {
        "user": "cinder", "secret_uuid": libvirt["rbd_secret_uuid"]}  # fmt: skip
    assert hypervisor["ceph_client"] == nova["ceph_client"]

    # Someone's image in glance's pool; a reapply keeps it, and every key and Secret.
    admin = CephTarget(monitors=tuple(monitors), keyring_path=ceph_cluster.admin_keyring)
    with connect(admin, SETTINGS) as client, client.ioctx("images") as io:
        rbd.RBD().create(io, "cirros", 4 * 1024 * 1024)
    apply(stack)
    assert user_of(ceph_cluster, "client.images") == images
    assert user_of(ceph_cluster, "client.cinder") == cinder
    assert secret_key(kube_cluster, "images-rbd-keyring") == images["key"]
    with connect(admin, SETTINGS) as client, client.ioctx("images") as io:
        assert rbd.RBD().list(io) == ["cirros"]

    # The backend stays while the app is applied.
    r = stack.client.delete(f"/v1/storage_backend/{backend}")
    assert r.status_code == 400
    assert f"in use by applied application(s) {APP_NAME}" in r.json()["error_message"]
    assert set(POOLS) <= set(pools_of(ceph_cluster))

    # A second controller: the audit gives every pool two copies.
    stack.add_host("controller-1", "controller")
    storage_backends.audit_health(stack.conductor.ctx)
    for pool in (*POOLS, ceph_charts.POOL):
        assert pool_facts(ceph_cluster, pool)[:2] == (2, 1), pool

    # Removing the app leaves the pools (their data), and lifts the refusal.
    r = stack.client.patch(f"{APP}?directive=remove", json={"values": {}})
    assert r.status_code == 200, r.text
    assert wait_done(stack, APP_NAME, timeout=180)["status"] == "uploaded"
    assert set(POOLS) <= set(pools_of(ceph_cluster))
    r = stack.client.delete(f"/v1/storage_backend/{backend}")
    assert r.status_code == 204, r.text
    # With the backend: the users and Secrets go, and the pools that hold nothing.
    assert "images" in pools_of(ceph_cluster) and "ephemeral" not in pools_of(ceph_cluster)
    listed = ceph_cluster.ceph("auth", "ls")
    assert not [u for u in USERS if u in listed]
    assert secrets_of(kube_cluster) == []
    assert config_maps(kube_cluster) == []


def test_without_a_backend_the_charts_keep_their_own_storage_and_apply(
    stack: Stack, ceph_cluster: CephCluster, kube_cluster: Any, bundle: Path
) -> None:
    upload(stack, bundle)
    glance, nova = system_overrides(stack, "glance"), system_overrides(stack, "nova")
    assert "storage" not in glance and "secrets" not in glance
    assert "ceph" not in glance.get("conf", {}) and "glance" not in glance.get("conf", {})
    assert "ceph" not in nova.get("conf", {}) and "nova" not in nova.get("conf", {})
    assert "ceph_client" not in nova
    hypervisor = system_overrides(stack, "libvirt")
    assert "ceph_client" not in hypervisor and "conf" not in hypervisor
    apply(stack)
    assert not set(POOLS) & set(pools_of(ceph_cluster))
    listed = ceph_cluster.ceph("auth", "ls")
    assert not [u for u in USERS if u in listed]
    assert secrets_of(kube_cluster) == []
    assert config_maps(kube_cluster) == []


def test_an_apply_whose_ceph_does_not_answer_fails_before_any_chart_runs(
    stack: Stack, ceph_cluster: CephCluster, kube_cluster: Any, helm4: HelmBinary,
    helm_home: Path, bundle: Path,
) -> None:  # fmt: skip
    r = stack.client.post("/v1/storage_backend", json={"backend": "ceph"})
    assert r.status_code == 200 and r.json()["state"] == "configured", r.text
    upload(stack, bundle)
    assert ceph_cluster.mon is not None
    ceph_cluster.mon.proc.send_signal(19)  # SIGSTOP: the monitor stops answering
    try:
        r = stack.client.patch(f"{APP}?directive=apply", json={"values": {}})
        assert r.status_code == 200, r.text
        app = wait_done(stack, APP_NAME, timeout=120)
    finally:
        ceph_cluster.mon.proc.send_signal(18)  # SIGCONT
    assert app["status"] == "apply-failed", app
    assert "no Ceph monitor at" in app["progress"], app
    res = subprocess.run(
        [str(helm4.path), "--kubeconfig", str(kube_cluster.kubeconfig), "list", "--deployed",
         "--failed", "--pending", "--uninstalling", "-n", NAMESPACE, "-o", "json"],
        env=helm4.env(helm_home), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    ours = {f"mini-{chart}" for chart in ("glance", "nova", "libvirt")}
    assert not [r for r in json.loads(res.stdout or "[]") if r["name"] in ours]
    assert not set(POOLS) & set(pools_of(ceph_cluster))
