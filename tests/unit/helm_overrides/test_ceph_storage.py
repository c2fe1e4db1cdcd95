"""The OpenStack charts' Ceph users, caps and overrides as pure functions of a snapshot."""

from __future__ import annotations

from helm_overrides.openstack import ceph_storage
from helm_overrides.openstack.glance import GlancePlugin
from helm_overrides.openstack.nova import NovaPlugin
from helm_overrides.snapshot import CephView, ChartInput, HostView, ModelSnapshot

CEPH = CephView(("10.0.0.1:6789", "10.0.0.2:6789"), fsid="f-1", replication=2, min_replication=1)


def snap(ceph: CephView | None) -> ModelSnapshot:
    hosts = (HostView("controller-0", "controller"), HostView("controller-1", "controller"))
    return ModelSnapshot("s", "Standard", "duplex", "RegionOne", hosts=hosts, ceph=ceph)


def test_each_user_gets_exactly_the_pools_its_charts_use() -> None:
    both = ceph_storage.access_for(["glance", "nova", "keystone"])
    assert {u: a.caps() for u, a in both.items()} == {
        "cinder": {
            "mon": "profile rbd",
            "osd": "profile rbd pool=ephemeral, profile rbd-read-only pool=images",
        },
        "images": {"mon": "profile rbd", "osd": "profile rbd pool=images"},
    }
    assert [a.entity for a in ceph_storage.access_for(["nova"]).values()] == ["client.cinder"]
    assert ceph_storage.access_for(["libvirt"]) == ceph_storage.access_for(["nova"])
    assert ceph_storage.access_for(["keystone", "rbd-provisioner"]) == {}


def test_glance_and_nova_name_the_backend_pools_users_and_secrets() -> None:
    glance = GlancePlugin().compute(snap(CEPH), ChartInput("app", "glance", "openstack"))
    store = glance["conf"]["glance"]["glance_store"]
    assert glance["storage"] == "rbd"
    assert (store["rbd_store_pool"], store["rbd_store_user"], store["rbd_store_replication"]) == (
        "images", "images", 2)  # fmt: skip
    assert glance["conf"]["ceph"]["monitors"] == list(CEPH.monitors)
    assert glance["secrets"]["rbd"] == "images-rbd-keyring"
    assert glance["manifests"]["job_storage_init"] is False
    assert glance["ceph_client"] == {"configmap": ceph_storage.CONF_CONFIGMAP}
    assert ceph_storage.ceph_conf(CEPH.monitors) == (
        "[global]\nmon_host = 10.0.0.1:6789,10.0.0.2:6789\n"
    )

    nova = NovaPlugin().compute(snap(CEPH), ChartInput("app", "nova", "openstack"))
    libvirt = nova["conf"]["nova"]["libvirt"]
    assert (libvirt["images_type"], libvirt["images_rbd_pool"], libvirt["rbd_user"]) == (
        "rbd", "ephemeral", "cinder")  # fmt: skip
    assert nova["ceph_client"]["user_secret_name"] == "cinder-rbd-keyring"
    # One libvirt secret per cluster and user, the same at every generation.
    again = NovaPlugin().compute(snap(CEPH), ChartInput("app", "nova", "openstack"))
    assert again["conf"]["ceph"]["secret_uuid"] == libvirt["rbd_secret_uuid"]
    other = CephView(CEPH.monitors, fsid="f-2")
    assert ceph_storage.libvirt_secret_uuid(other, "cinder") != libvirt["rbd_secret_uuid"]


def test_without_a_backend_glance_and_nova_keep_their_own_storage() -> None:
    glance = GlancePlugin().compute(snap(None), ChartInput("app", "glance", "openstack"))
    nova = NovaPlugin().compute(snap(None), ChartInput("app", "nova", "openstack"))
    assert not {"storage", "secrets", "manifests", "conf"} & set(glance)
    assert not {"ceph_client", "manifests"} & set(nova)
    assert "nova" not in nova.get("conf", {}) and "ceph" not in nova.get("conf", {})
