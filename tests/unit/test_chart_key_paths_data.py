"""Shape of tests/data/chart_key_paths.json, the facts about real charts' value key paths."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent.parent / "data" / "chart_key_paths.json"

OPENSTACK_CHARTS = (
    "mariadb",
    "rabbitmq",
    "memcached",
    "keystone",
    "ingress",
    "nova",
    "neutron",
    "placement",
    "glance",
    "libvirt",
    "openvswitch",
)
STARLINGX_CHARTS = ("rbd-provisioner", "ceph-pools-audit")
# Charts whose workloads are all daemonsets have no pod.replicas.
WITHOUT_REPLICAS = {"libvirt", "openvswitch"}


@cache
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return loaded


def key_paths(chart: str) -> set[str]:
    return set(data()["charts"][chart]["key_paths"])


def test_file_is_deterministic() -> None:
    text = DATA.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True) + "\n"


def test_sources_name_a_repository_and_a_commit() -> None:
    sources = data()["sources"]
    assert set(sources) == {"openstack-helm", "openstack-helm-infra", "platform-armada-app"}
    for source in sources.values():
        assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", source["repository"])
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"])


@pytest.mark.parametrize("chart", OPENSTACK_CHARTS + STARLINGX_CHARTS)
def test_every_chart_has_sorted_key_paths_from_a_known_source(chart: str) -> None:
    entry = data()["charts"][chart]
    assert entry["source"] in data()["sources"]
    assert entry["path"]
    paths = entry["key_paths"]
    assert paths, chart
    assert paths == sorted(set(paths))
    assert set(entry["template_only_key_paths"]) <= set(paths)


@pytest.mark.parametrize("chart", OPENSTACK_CHARTS + STARLINGX_CHARTS)
def test_every_parent_path_is_listed(chart: str) -> None:
    paths = key_paths(chart)
    for path in paths:
        parts = re.split(r"(?<!\\)\.", path)
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i]).removesuffix("[]")
            assert parent in paths, (chart, path, parent)


@pytest.mark.parametrize("chart", OPENSTACK_CHARTS)
def test_openstack_charts_have_the_common_sections(chart: str) -> None:
    paths = key_paths(chart)
    assert {"labels", "images.tags", "endpoints", "endpoints.cluster_domain_suffix"} <= paths
    assert ("pod.replicas" in paths) == (chart not in WITHOUT_REPLICAS)


def test_where_the_charts_come_from() -> None:
    charts = data()["charts"]
    assert charts["ingress"]["source"] == "openstack-helm-infra"
    for chart in set(OPENSTACK_CHARTS) - {"ingress"}:
        assert charts[chart]["source"] == "openstack-helm"
        assert charts[chart]["path"] == chart
    for chart in STARLINGX_CHARTS:
        assert charts[chart]["source"] == "platform-armada-app"


def test_replicas_node_selectors_and_image_tags() -> None:
    assert {"pod.replicas.api", "labels.api.node_selector_key", "images.tags.keystone_api"} <= (
        key_paths("keystone")
    )
    assert {
        "pod.replicas.osapi",
        "pod.replicas.conductor",
        "labels.agent.compute.node_selector_key",
        "labels.agent.compute.node_selector_value",
        "images.tags.nova_compute",
    } <= key_paths("nova")
    assert {"pod.replicas.server", "labels.server.node_selector_value"} <= key_paths("mariadb")
    assert {"pod.replicas.ingress", "pod.replicas.error_page"} <= key_paths("ingress")
    assert "labels.ovs.node_selector_key" in key_paths("openvswitch")
    assert "labels.agent.libvirt.node_selector_key" in key_paths("libvirt")


def test_identity_endpoint_paths() -> None:
    assert {
        "endpoints.identity.hosts.default",
        "endpoints.identity.port.api.default",
        "endpoints.identity.auth.admin.region_name",
        "endpoints.identity.auth.admin.password",
        "endpoints.identity.auth.nova.username",
    } <= key_paths("nova")
    assert "endpoints.identity.auth.admin.region_name" in key_paths("keystone")


def test_per_host_daemonset_override_paths() -> None:
    nova = key_paths("nova")
    assert {
        "conf.overrides.nova_compute.hosts[].name",
        "conf.overrides.nova_compute.hosts[].conf",
        "conf.overrides.nova_compute.labels[].label.key",
        "conf.overrides.nova_compute.labels[].conf",
    } <= nova
    assert {
        "conf.overrides.neutron_ovs-agent.hosts[].name",
        "conf.overrides.neutron_ovs-agent.hosts[].conf",
        "conf.overrides.neutron_dhcp-agent.hosts[].name",
    } <= key_paths("neutron")
    # At the recorded commit libvirt uses daemonset_overrides_root (top-level .Values.overrides).
    assert "overrides.libvirt_libvirt.labels.*.values" in key_paths("libvirt")
    assert not any(p.startswith("conf.overrides.libvirt") for p in key_paths("libvirt"))
    assert not any("overrides" in p for p in key_paths("openvswitch"))


def test_starlingx_charts() -> None:
    assert {
        "classes[].pool_name",
        "classes[].replication",
        "classdefaults.monitors",
        "global.replicas",
        "images.tags.rbd_provisioner",
        "images.tags.rbd_provisioner_storage_init",
    } <= key_paths("rbd-provisioner")
    assert {
        "conf.ceph.storage_tiers[].replication",
        "conf.ceph.storage_tiers[].min_replication",
        "conf.ceph.storage_tiers[].crush_rule_name",
        "conf.ceph.monitors",
        "images.tags.ceph_config_helper",
        "labels.job.node_selector_key",
        "nodeSelector.node-role\\.kubernetes\\.io/master",
    } <= key_paths("ceph-pools-audit")
