"""Plugins and generation as pure functions of a snapshot."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest

from armada.documents import load_documents
from helm_overrides.images import local_image
from helm_overrides.plugin import ChartPlugin, NotConfigured, load_plugins
from helm_overrides.snapshot import CephView, ChartInput, HostView, ModelSnapshot, SecretRef
from sysinv_conductor.overrides.generate import (
    ChartOverrides,
    ChartSettings,
    OverrideGenerator,
    missing_labels,
)
from sysinv_conductor.overrides.secrets import MASK, secret_names, substitute
from tests.helm_charts.placements import CHART_DEFAULTS
from tests.helm_charts.placements import labels_values as placed

EXPECTED = {
    "ceph-pools-audit", "glance", "ingress", "keystone", "libvirt", "mariadb", "memcached",
    "neutron", "nova", "openvswitch", "placement", "rabbitmq", "rbd-provisioner",
}  # fmt: skip


def snap(system_type: str = "Standard", mode: str = "duplex", **kw: Any) -> ModelSnapshot:
    hosts = kw.pop("hosts", (
        HostView("controller-0", "controller"), HostView("controller-1", "controller"),
        HostView("worker-0", "worker"),
    ))  # fmt: skip
    return ModelSnapshot("s", system_type, mode, "RegionTwo", hosts=hosts, **kw)


def test_every_plugin_is_registered_under_its_chart_name() -> None:
    plugins = load_plugins()
    assert set(plugins) == EXPECTED
    assert all(p.chart == name for name, p in plugins.items())


def test_plugins_are_deterministic_and_do_not_touch_their_input() -> None:
    s = snap(ceph=CephView(("10.0.0.1:6789",)), registry_address="reg:5000")
    base = {"images": {"tags": {"api": "docker.io/x/api:1"}}}
    for name, plugin in load_plugins().items():
        chart = ChartInput("app", name, plugin.namespaces[0], base)
        assert plugin.overrides(s, chart) == plugin.overrides(s, chart)
    assert base == {"images": {"tags": {"api": "docker.io/x/api:1"}}}


def test_platform_charts_without_ceph_are_not_configured() -> None:
    plugins = load_plugins()
    for name in ("rbd-provisioner", "ceph-pools-audit"):
        with pytest.raises(NotConfigured, match="storage backend ceph is not configured"):
            plugins[name].overrides(snap(), ChartInput("a", name, "kube-system"))


def test_region_and_shared_secrets() -> None:
    plugins = load_plugins()
    nova = plugins["nova"].overrides(snap(), ChartInput("a", "nova", "openstack"))
    keystone = plugins["keystone"].overrides(snap(), ChartInput("a", "keystone", "openstack"))
    admin = nova["endpoints"]["identity"]["auth"]["admin"]
    assert admin["region_name"] == "RegionTwo"
    assert admin["password"] == keystone["endpoints"]["identity"]["auth"]["admin"]["password"]
    assert admin["password"] == SecretRef("keystone-admin")
    assert "neutron-keystone" in secret_names(nova)
    masked = substitute(nova, None)
    assert masked["endpoints"]["identity"]["auth"]["admin"]["password"] == MASK
    assert secret_names(masked) == set()


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("docker.io/osh/keystone:2024.1", "reg:5000/docker.io/osh/keystone:2024.1"),
        ("openstackhelm/heat:1", "reg:5000/docker.io/openstackhelm/heat:1"),
        ("busybox:1.36", "reg:5000/docker.io/library/busybox:1.36"),
        ("quay.io/a/b@sha256:00", "reg:5000/quay.io/a/b@sha256:00"),
        ("localhost:5000/a:1", "reg:5000/localhost:5000/a:1"),
        ("reg:5000/docker.io/a:1", "reg:5000/docker.io/a:1"),
    ],
)  # fmt: skip
def test_local_image(ref: str, expected: str) -> None:
    assert local_image("reg:5000", ref) == expected


def _charts(manifest_charts: list[str]) -> list[ChartOverrides]:
    """The charts, placed as the openstack-helm charts' values.yaml place them."""
    plugins = load_plugins()
    out = []
    for c in manifest_charts:
        chart = ChartInput("a", c, "openstack", placed(CHART_DEFAULTS[c]))
        requires = plugins[c].requirements(snap(), chart)
        out.append(ChartOverrides(f"d-{c}", c, "openstack", True, {}, requires=requires))
    return out


def test_missing_labels_hint_names_a_host_of_the_right_personality() -> None:
    hints = missing_labels(snap(), _charts(["keystone", "nova"]))
    assert hints == [
        "chart keystone needs a host labelled openstack-control-plane=enabled. "
        "Please use system host-label-assign controller-0 openstack-control-plane=enabled",
        "chart nova needs a host labelled openstack-compute-node=enabled. "
        "Please use system host-label-assign worker-0 openstack-compute-node=enabled",
    ]
    aio = snap("All-in-one", "simplex", hosts=(HostView("controller-0", "controller"),))
    assert "host-label-assign controller-0 openstack-compute-node=enabled" in " ".join(
        missing_labels(aio, _charts(["libvirt"]))
    )
    labelled = snap(hosts=(
        HostView("controller-0", "controller", labels={"openstack-control-plane": "enabled"}),
        HostView("worker-0", "worker", labels={"openstack-compute-node": "enabled"}),
    ))  # fmt: skip
    assert missing_labels(labelled, _charts(["keystone", "nova"])) == []
    disabled = _charts(["nova"])
    disabled[0].enabled = False
    assert missing_labels(snap(), disabled) == []


def test_doc_values_system_and_user_layer_in_order() -> None:
    co = ChartOverrides(
        "d", "memcached", "openstack", True,
        doc_values={"a": 1, "m": {"x": 1, "y": 1}},
        system={"m": {"y": 2}, "s": True}, user={"m": {"x": None}, "a": 3},
    )  # fmt: skip
    assert co.helm_values() == {"a": 3, "m": {"x": None, "y": 2}, "s": True}
    assert co.combined() == {"m": {"x": None, "y": 2}, "s": True, "a": 3}


def test_generator_notes_charts_without_plugin_and_reads_user_overrides(tmp_path: Path) -> None:
    docs = load_documents(MANIFEST)
    settings = {("memcached", "openstack"): ChartSettings(False, "pod:\n  replicas: {server: 5}\n")}
    memcached, unknown = OverrideGenerator().generate(snap(), "app", docs, tmp_path, settings)
    assert (memcached.chart, memcached.enabled, memcached.note) == ("memcached", False, None)
    assert memcached.system is not None and memcached.system["pod"]["replicas"]["server"] == 2
    assert memcached.user == {"pod": {"replicas": {"server": 5}}}
    assert unknown.system is None and unknown.note == "no override plugin for chart unknown"
    assert unknown.helm_values() == {"a": 1}
    only = OverrideGenerator().generate(
        snap(), "app", docs, tmp_path, {}, only=("unknown", "openstack")
    )
    assert [c.chart for c in only] == ["unknown"]


def _chart_archive(charts_dir: Path, name: str, values: str) -> None:
    """A packaged chart holding only its values.yaml (all the generator reads of it)."""
    charts_dir.mkdir(parents=True, exist_ok=True)
    data = values.encode()
    with tarfile.open(charts_dir / f"{name}-0.1.0.tgz", "w:gz") as tar:
        info = tarfile.TarInfo(f"{name}/values.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_images_of_a_chart_without_plugin_come_from_the_local_registry(tmp_path: Path) -> None:
    _chart_archive(tmp_path, "unknown", """
images:
  tags:
    api: docker.io/openstackhelm/heat:2024.1
    dep_check: quay.io/airshipit/kubernetes-entrypoint:v1.0.0
    image_repo_sync: docker.io/docker:17.07.0
    busybox: busybox:1.36
""")  # fmt: skip
    docs = load_documents(
        MANIFEST.replace(
            "values: {a: 1}",
            "values: {a: 1, images: {tags: {image_repo_sync: null,"
            " api: 'docker.io/starlingx/stx-heat:x'}}}",
        )
    )
    s = snap(registry_address="registry.local:9001")
    unknown = OverrideGenerator().generate(
        s, "app", docs, tmp_path, {}, only=("unknown", "openstack")
    )[0]
    assert unknown.note == "no override plugin for chart unknown"
    assert unknown.requires == ()
    assert unknown.system == {"images": {"tags": {
        # The manifest's image replaces the chart's; the one it removes stays removed.
        "api": "registry.local:9001/docker.io/starlingx/stx-heat:x",
        "busybox": "registry.local:9001/docker.io/library/busybox:1.36",
        "dep_check": "registry.local:9001/quay.io/airshipit/kubernetes-entrypoint:v1.0.0",
    }}}  # fmt: skip
    assert unknown.helm_values()["images"]["tags"]["image_repo_sync"] is None
    assert unknown.helm_values()["a"] == 1
    # No registry configured: nothing to rewrite, no system overrides.
    plain = OverrideGenerator().generate(
        snap(), "app", docs, tmp_path, {}, only=("unknown", "openstack")
    )
    assert plain[0].system is None


def test_images_of_a_plugin_chart_in_a_namespace_it_does_not_serve(tmp_path: Path) -> None:
    _chart_archive(tmp_path, "memcached", "images: {tags: {memcached: docker.io/memcached:1.6}}\n")
    docs = load_documents(MANIFEST.replace(
        "chart_name: memcached, release: m, namespace: openstack",
        "chart_name: memcached, release: m, namespace: elsewhere"))  # fmt: skip
    s = snap(registry_address="reg:5000")
    (co,) = OverrideGenerator().generate(
        s, "app", docs, tmp_path, {}, only=("memcached", "elsewhere")
    )
    assert co.note == "chart memcached supports namespaces openstack, not elsewhere"
    assert co.system == {"images": {"tags": {"memcached": "reg:5000/docker.io/memcached:1.6"}}}


def test_a_plugins_own_image_wins_over_the_rewritten_one(tmp_path: Path) -> None:
    _chart_archive(tmp_path, "memcached", "images: {tags: {memcached: docker.io/memcached:1.6, "
                   "exporter: docker.io/prom/memcached-exporter:v0.4}}\n")  # fmt: skip

    class Pinned(ChartPlugin):
        chart = "memcached"
        namespaces = ("openstack",)

        def compute(self, snap: ModelSnapshot, chart: ChartInput) -> dict[str, Any]:
            return {"images": {"tags": {"memcached": "site.example/memcached:pinned"}}}

    docs = load_documents(MANIFEST)
    s = snap(registry_address="reg:5000")
    gen = OverrideGenerator({"memcached": Pinned()})
    (co,) = gen.generate(s, "app", docs, tmp_path, {}, only=("memcached", "openstack"))
    assert co.system == {"images": {"tags": {
        "memcached": "site.example/memcached:pinned",
        "exporter": "reg:5000/docker.io/prom/memcached-exporter:v0.4",
    }}}  # fmt: skip


MANIFEST = """
schema: armada/Manifest/v1
metadata: {schema: metadata/Document/v1, name: m}
data: {release_prefix: p, chart_groups: [g]}
---
schema: armada/ChartGroup/v1
metadata: {schema: metadata/Document/v1, name: g}
data: {sequenced: false, chart_group: [c1, c2]}
---
schema: armada/Chart/v1
metadata: {schema: metadata/Document/v1, name: c1}
data: {chart_name: memcached, release: m, namespace: openstack, values: {},
       source: {type: tar, location: http://x/memcached-0.1.0.tgz, subpath: memcached}}
---
schema: armada/Chart/v1
metadata: {schema: metadata/Document/v1, name: c2}
data: {chart_name: unknown, release: u, namespace: openstack, values: {a: 1},
       source: {type: tar, location: http://x/unknown-0.1.0.tgz, subpath: unknown}}
"""
