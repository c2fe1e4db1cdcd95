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


def starlingx() -> dict[str, Any]:
    section: dict[str, Any] = data()["starlingx"]
    return section


def every_version() -> list[tuple[str, str, dict[str, Any]]]:
    """(chart, version, entry) for the current charts and each StarlingX-era one."""
    out = [(chart, "current", entry) for chart, entry in data()["charts"].items()]
    for chart, versions in starlingx()["charts"].items():
        out += [(chart, version, entry) for version, entry in versions.items()]
    return out


def test_starlingx_versions_name_their_pins() -> None:
    pinned_by = starlingx()["pinned_by"]
    assert pinned_by["repository"] == "https://github.com/starlingx/openstack-armada-app"
    assert re.fullmatch(r"[0-9a-f]{40}", pinned_by["commit"])
    sources = starlingx()["sources"]
    # Two openstack-helm and two openstack-helm-infra pins a year at least, 2019 to 2021.
    assert sum(v.startswith("openstack-helm@") for v in sources) >= 4
    assert sum(v.startswith("openstack-helm-infra@") for v in sources) >= 4
    for version, source in sources.items():
        name, short = version.split("@")
        assert source["repository"] == f"https://github.com/openstack/{name}"
        assert re.fullmatch(r"[0-9a-f]{40}", source["commit"]) and source["commit"][:9] == short
        assert re.fullmatch(r"[0-9a-f]{40}", source["pinned_in"])
        assert pinned_by["since"] <= source["committed_on"] <= pinned_by["until"]
        assert source["committed_on"] <= source["pinned_on"]
        assert re.fullmatch(r"openstack-helm-infra@[0-9a-f]{40}", source["helm_toolkit_from"])


def test_starlingx_versions_cover_every_openstack_chart() -> None:
    charts = starlingx()["charts"]
    assert set(charts) == set(OPENSTACK_CHARTS)
    for chart, versions in charts.items():
        assert set(versions) <= set(starlingx()["sources"]), chart
        for entry in versions.values():
            assert entry["path"] == chart
            assert entry["key_paths"] == sorted(set(entry["key_paths"]))
            assert set(entry["template_only_key_paths"]) <= set(entry["key_paths"])
    # The placement chart entered openstack-helm in 2020 (before, nova's own deployment).
    assert {v.split("@")[0] for v in charts["placement"]} == {"openstack-helm"}
    assert len(charts["nova"]) > len(charts["placement"])


@pytest.mark.parametrize(("chart", "version", "entry"), every_version(),
                         ids=lambda x: x if isinstance(x, str) else "")  # fmt: skip
def test_credential_usernames_are_entries_of_the_chart(
    chart: str, version: str, entry: dict[str, Any]
) -> None:
    paths = set(entry["key_paths"])
    for path, username in entry["credential_usernames"].items():
        assert f"{path}.username" in paths, (chart, version, path)
        assert re.fullmatch(
            r"endpoints\.(oslo_db\w*|oslo_messaging\w*|identity)\.auth\.[^.]+", path
        )
        assert isinstance(username, str) and username


def test_the_endpoints_starlingx_era_charts_read() -> None:
    nova_2019 = starlingx()["charts"]["nova"]["openstack-helm@6c7163722"]
    # nova of 2019 has three databases, one user each, all named nova.
    for db in ("oslo_db", "oslo_db_api", "oslo_db_cell0"):
        assert f"endpoints.{db}.auth.nova.password" in nova_2019["key_paths"]
        assert nova_2019["credential_usernames"][f"endpoints.{db}.auth.nova"] == "nova"
    # In 2019 nova talks to neutron as neutron's own user; today as a user of its own.
    assert nova_2019["credential_usernames"]["endpoints.identity.auth.neutron"] == "neutron"
    nova_now = data()["charts"]["nova"]["credential_usernames"]
    assert nova_now["endpoints.identity.auth.neutron"] == "nova_neutron"
    assert "endpoints.oslo_cache.auth.memcache_secret_key" in nova_2019["key_paths"]
    rabbitmq = starlingx()["charts"]["rabbitmq"]["openstack-helm-infra@aae64213c"]
    assert rabbitmq["credential_usernames"] == {"endpoints.oslo_messaging.auth.user": "rabbitmq"}
