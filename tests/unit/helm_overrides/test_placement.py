"""Placement is the application's: plugins read it, never override it (issue 22, item 9)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from armada.documents import load_documents
from helm_overrides.merge import coalesce
from helm_overrides.plugin import LabelRequirement, load_plugins
from helm_overrides.snapshot import CephView, ChartInput, HostView, ModelSnapshot
from sysinv_conductor.overrides.generate import OverrideGenerator, missing_labels
from tests.helm_charts.placements import CHART_DEFAULTS, COMPUTE, CONTROL, OVS, STX_2019
from tests.helm_charts.placements import labels_values as placed

PLATFORM_NODE_SELECTORS = {
    # StarlingX's charts, as packaged for the platform app.
    "rbd-provisioner": {"global": {"nodeSelector": {"node-role.kubernetes.io/master": ""}}},
    "ceph-pools-audit": {
        "nodeSelector": {"node-role.kubernetes.io/master": ""},
        **placed({"job": "node-role.kubernetes.io/master"}),
    },
}


def standard(**kw: Any) -> ModelSnapshot:
    hosts = kw.pop("hosts", (
        HostView("controller-0", "controller", mgmt_ip="192.168.204.10",
                 labels={CONTROL: "enabled"}),
        HostView("controller-1", "controller", mgmt_ip="192.168.204.11",
                 labels={CONTROL: "enabled"}),
        HostView("worker-0", "worker", mgmt_ip="192.168.204.20",
                 labels={COMPUTE: "enabled", OVS: "enabled"}),
        HostView("worker-1", "worker", mgmt_ip="192.168.204.21", labels={COMPUTE: "enabled"}),
    ))  # fmt: skip
    return ModelSnapshot("s", "Standard", "duplex", "RegionOne", hosts=hosts, **kw)


def stx_values(chart: str) -> dict[str, Any]:
    """The chart's values as an apply of StarlingX's 2019 manifest gives them to plugins:
    the manifest's document values coalesced over the chart's values.yaml."""
    if chart in PLATFORM_NODE_SELECTORS:
        return dict(PLATFORM_NODE_SELECTORS[chart])
    return coalesce(placed(CHART_DEFAULTS[chart]), placed(STX_2019.get(chart, {})))


def selector_paths(values: Any, prefix: str = "") -> list[str]:
    """Every path of ``values`` that places pods: labels.*, nodeSelector, affinity."""
    found: list[str] = []
    if isinstance(values, dict):
        for key, value in values.items():
            path = f"{prefix}.{key}" if prefix else key
            if path == "labels" or key in ("nodeSelector", "node_selector_key", "affinity"):
                found.append(path)
            else:
                found += selector_paths(value, path)
    return found


PLUGINS = load_plugins()


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_no_plugin_places_pods(name: str) -> None:
    plugin = PLUGINS[name]
    s = standard(ceph=CephView(("192.168.204.2:6789",)), registry_address="reg:5000")
    for namespace in plugin.namespaces:
        chart = ChartInput("stx-openstack", name, namespace, stx_values(name))
        out = plugin.overrides(s, chart)
        assert selector_paths(out) == [], (name, namespace)
        # So the application's placement is what Helm gets, unchanged.
        combined = coalesce(chart.base_values, out)
        for key in ("labels", "nodeSelector"):
            assert combined.get(key) == chart.base_values.get(key), (name, key)
        assert combined.get("global", {}).get("nodeSelector") == (
            chart.base_values.get("global", {}).get("nodeSelector")
        )


def test_neutron_agents_stay_where_starlingx_puts_them() -> None:
    neutron = PLUGINS["neutron"]
    chart = ChartInput("stx-openstack", "neutron", "openstack", stx_values("neutron"))
    values = coalesce(chart.base_values, neutron.overrides(standard(), chart))
    where = {
        p: values["labels"]["agent"][p]["node_selector_key"] for p in ("dhcp", "l3", "metadata")
    }
    assert where == {"dhcp": COMPUTE, "l3": COMPUTE, "metadata": COMPUTE}
    # The OVS agent, which the chart requires on the node of each of those agents.
    assert values["labels"]["ovs"] == {"node_selector_key": OVS, "node_selector_value": "enabled"}
    assert values["labels"]["server"]["node_selector_key"] == CONTROL


def test_requirements_are_the_labels_the_app_places_with() -> None:
    def needs(name: str, values: dict[str, Any]) -> set[LabelRequirement]:
        chart = ChartInput("a", name, PLUGINS[name].namespaces[0], values)
        return set(PLUGINS[name].requirements(standard(), chart))

    control = LabelRequirement(CONTROL, "enabled", ("controller",))
    compute = LabelRequirement(COMPUTE, "enabled", ("worker",))
    ovs = LabelRequirement(OVS, "enabled", ("worker",))
    assert needs("neutron", stx_values("neutron")) == {control, compute, ovs}
    # The chart's own defaults: agents on the control plane, with the OVS agent there too.
    assert needs("neutron", placed(CHART_DEFAULTS["neutron"])) == {control, ovs}
    assert needs("openvswitch", stx_values("openvswitch")) == {ovs}
    assert needs("nova", stx_values("nova")) == {control, compute}  # not openstack-ironic
    assert needs("keystone", stx_values("keystone")) == {control}
    # Labels of workloads an apply does not run (linuxbridge, tests, exporters) are not needed.
    assert needs(
        "mariadb", placed({"server": "db", "test": "t", "prometheus_mysql_exporter": "p"})
    ) == {LabelRequirement("db", "enabled", ("controller",))}
    # A chart that places nothing needs nothing; a platform chart's placement is Kubernetes'.
    assert needs("memcached", {}) == set()
    assert needs("rbd-provisioner", stx_values("rbd-provisioner")) == set()


def test_nova_compute_hosts_are_those_the_app_places_nova_compute_on() -> None:
    nova = PLUGINS["nova"]
    custom = coalesce(stx_values("nova"), placed({"agent.compute": "kvm"}))
    s = standard(hosts=(
        HostView("controller-0", "controller", mgmt_ip="192.168.204.10",
                 labels={COMPUTE: "enabled"}),
        HostView("worker-0", "worker", mgmt_ip="192.168.204.20", labels={"kvm": "enabled"}),
    ))  # fmt: skip

    def hosts(values: dict[str, Any]) -> list[str]:
        out = nova.overrides(s, ChartInput("a", "nova", "openstack", values))
        return [h["name"] for h in out["conf"]["overrides"]["nova_compute"]["hosts"]]

    assert hosts(stx_values("nova")) == ["controller-0"]
    assert hosts(custom) == ["worker-0"]
    assert hosts({}) == ["controller-0"]  # nothing placed: StarlingX's compute label


def _archive(charts_dir: Path, name: str, values: dict[str, Any]) -> None:
    data = yaml.safe_dump(values).encode()
    with tarfile.open(charts_dir / f"{name}-0.1.0.tgz", "w:gz") as tar:
        info = tarfile.TarInfo(f"{name}/values.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


STX_MANIFEST = """
schema: armada/Manifest/v1
metadata: {schema: metadata/Document/v1, name: m}
data: {release_prefix: osh, chart_groups: [g]}
---
schema: armada/ChartGroup/v1
metadata: {schema: metadata/Document/v1, name: g}
data: {sequenced: false, chart_group: [openstack-neutron, openstack-openvswitch]}
---
schema: armada/Chart/v1
metadata: {schema: metadata/Document/v1, name: openstack-neutron}
data:
  chart_name: neutron
  release: openstack-neutron
  namespace: openstack
  values: %s
  source: {type: tar, location: http://x/neutron-0.1.0.tgz, subpath: neutron}
---
schema: armada/Chart/v1
metadata: {schema: metadata/Document/v1, name: openstack-openvswitch}
data:
  chart_name: openvswitch
  release: openstack-openvswitch
  namespace: openstack
  values: %s
  source: {type: tar, location: http://x/openvswitch-0.1.0.tgz, subpath: openvswitch}
"""


def test_an_apply_of_the_starlingx_manifest_keeps_its_placement(tmp_path: Path) -> None:
    for name in ("neutron", "openvswitch"):
        _archive(tmp_path, name, placed(CHART_DEFAULTS[name]))
    docs = load_documents(STX_MANIFEST % (
        yaml.safe_dump(placed(STX_2019["neutron"]), default_flow_style=True).strip(),
        yaml.safe_dump(placed(STX_2019["openvswitch"]), default_flow_style=True).strip(),
    ))  # fmt: skip
    s = standard()
    neutron, ovs = OverrideGenerator().generate(s, "stx-openstack", docs, tmp_path, {})
    for co in (neutron, ovs):
        assert co.system is not None and "labels" not in co.system
        assert (
            coalesce(placed(CHART_DEFAULTS[co.chart]), co.helm_values())["labels"]
            == (coalesce(placed(CHART_DEFAULTS[co.chart]), placed(STX_2019[co.chart]))["labels"])
        )
    # worker-0 carries openvswitch=enabled: nothing is missing. Without it, the hint asks
    # for it on a worker, as StarlingX's install guide does.
    assert missing_labels(s, [neutron, ovs]) == []
    unlabelled = standard(hosts=tuple(
        HostView(h.hostname, h.personality, labels={k: v for k, v in h.labels.items() if k != OVS})
        for h in s.hosts
    ))  # fmt: skip
    neutron, ovs = OverrideGenerator().generate(unlabelled, "stx-openstack", docs, tmp_path, {})
    assert missing_labels(unlabelled, [neutron, ovs]) == [
        "chart neutron needs a host labelled openvswitch=enabled. "
        "Please use system host-label-assign worker-0 openvswitch=enabled"
    ]
