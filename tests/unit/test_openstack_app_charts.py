"""The OpenStack test bundle's charts read the real charts' keys, era by era.

Today's charts are checked against tests/data/chart_key_paths.json (collected from the
same commits). The 2019 charts may read only those paths and the ones recorded below as
gone since 2019. Rendering with the real helm shows each template reads what it should.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from armada.documents import load_documents
from tests.helm_charts.key_paths import key_paths, leaf_paths, unknown_paths
from tests.helm_charts.openstack_app import (
    APP_NAME,
    CHART_VERSIONS,
    GROUPS,
    PREFIX,
    RELEASES,
    V1,
    V2,
    Version,
    chart_values,
    manifest_documents,
    write_chart,
)
from tests.helm_charts.openstack_charts import ERA_2019, ERA_CURRENT, ERAS, charts
from tests.servers.helm import HelmBinary

#: StarlingX's own chart: no key paths were collected for it.
WITHOUT_DATA = {"nova-api-proxy"}
#: What the 2019 charts read that today's no longer have (a path, or everything below it).
ERA_2019_ONLY = {
    "mariadb": ("labels.ingress", "labels.error_server", "pod.replicas.ingress",
                "pod.replicas.error_page", "images.tags.ingress", "images.tags.error_pages",
                "dependencies.static.mariadb", "dependencies.static.ingress",
                "dependencies.static.error_pages", "endpoints.oslo_db.hosts.error_pages",
                "manifests.deployment_ingress", "manifests.deployment_error"),
    "memcached": ("manifests.deployment",
                  "pod.lifecycle.upgrades.deployments.rolling_update.max_surge"),
    "keystone": ("dependencies.static.rabbit_init", "secrets.oslo_db.keystone"),
    "glance": ("labels.registry", "pod.replicas.registry", "images.tags.glance_registry",
               "dependencies.static.registry", "manifests.deployment_registry",
               "secrets.oslo_db.glance"),
    "placement": ("secrets.oslo_db.placement",),
    "nova": ("labels.consoleauth", "labels.placement", "pod.replicas.consoleauth",
             "pod.replicas.placement", "images.tags.nova_consoleauth",
             "images.tags.nova_placement", "dependencies.static.consoleauth",
             "endpoints.oslo_db_api", "secrets.oslo_db.nova", "secrets.oslo_db_api",
             "conf.nova.cell0_database", "manifests.deployment_consoleauth",
             "manifests.deployment_placement"),
    "neutron": ("secrets.oslo_db.neutron",),
    "openvswitch": ("dependencies.static.db", "dependencies.static.vswitchd",
                    "manifests.daemonset_ovs_db"),
}  # fmt: skip


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "[]"))


@pytest.mark.parametrize("chart", sorted(set(charts(ERA_CURRENT)) - WITHOUT_DATA))
def test_todays_charts_read_only_what_the_real_ones_read(chart: str) -> None:
    assert unknown_paths(chart, chart_values(charts(ERA_CURRENT)[chart])) == []


@pytest.mark.parametrize("chart", sorted(set(charts(ERA_2019)) - WITHOUT_DATA))
def test_the_2019_charts_differ_only_by_what_is_recorded(chart: str) -> None:
    only = ERA_2019_ONLY.get(chart, ())
    paths = leaf_paths(chart_values(charts(ERA_2019)[chart]))
    unknown = set(unknown_paths(chart, chart_values(charts(ERA_2019)[chart])))
    assert sorted(p for p in unknown if not any(_under(p, o) for o in only)) == []
    for prefix in only:
        assert any(_under(p, prefix) for p in paths), f"{prefix} is not read in 2019"
        assert not any(_under(p, prefix) for p in key_paths(chart)), f"{prefix} is still read"


def test_every_chart_is_in_both_eras_and_the_manifest() -> None:
    names = {r.chart for r in RELEASES}
    for era in ERAS:
        assert set(charts(era)) == names


# --- the manifest ------------------------------------------------------------------------


@pytest.mark.parametrize("version", [V1, V2], ids=lambda v: v.app_version)
def test_the_manifest_has_starlingx_shape(version: Version) -> None:
    docs = load_documents(yaml.safe_dump_all(manifest_documents(version)))
    manifest = docs.manifest()
    assert manifest.release_prefix == PREFIX
    assert manifest.chart_groups == list(GROUPS)
    assert docs.groups["openstack-compute-kit"].sequenced is False
    assert docs.groups["openstack-mariadb"].sequenced is True
    assert {docs.charts[d].namespace for d in docs.groups["kube-system-ingress"].charts} == {
        "kube-system"}  # fmt: skip
    for r in RELEASES:
        chart = docs.charts[r.doc]
        group = {"release_group": r.name}
        assert (chart.chart_name, chart.namespace) == (r.chart, r.namespace)
        assert chart.wait_labels == group
        assert chart.upgrade_pre_delete == [{"type": "job", "labels": group}]
        assert Path(chart.source_location).name == (f"{r.chart}-{CHART_VERSIONS[version.era]}.tgz")


def test_the_manifest_places_neutrons_agents_as_starlingx_did() -> None:
    docs = load_documents(yaml.safe_dump_all(manifest_documents(V1)))
    labels = docs.charts["openstack-neutron"].values["labels"]
    for agent in ("dhcp", "l3", "metadata"):
        assert labels["agent"][agent]["node_selector_key"] == "openstack-compute-node"
    assert labels["ovs"]["node_selector_key"] == "openvswitch"
    assert labels["server"]["node_selector_key"] == "openstack-control-plane"


# --- rendering -----------------------------------------------------------------------------


def render(helm: HelmBinary, tmp: Path, era: str, chart: str, *sets: str) -> list[dict[str, Any]]:
    facts = charts(era)[chart]
    src = write_chart(tmp / era, facts, "0.1.0")
    args = [a for s in sets for a in ("--set", s)]
    out = subprocess.run(
        [str(helm.path), "template", f"{PREFIX}-openstack-{chart}", str(src),
         "--namespace", "openstack", *args],
        env=helm.env(tmp / "home"), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [d for d in yaml.safe_load_all(out) if d]


def find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def secret(docs: list[dict[str, Any]], name: str) -> dict[str, str]:
    data = find(docs, "Secret", name)["data"]
    return {k: base64.b64decode(v).decode() for k, v in data.items()}


def ini(text: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line:
            key, _, value = line.partition("=")
            out.setdefault(section, {})[key.strip()] = value.strip()
    return out


def init_env(pod: dict[str, Any]) -> dict[str, str]:
    (init,) = pod["initContainers"]
    return {e["name"]: e.get("value", "") for e in init["env"]}


@pytest.mark.parametrize("era", ERAS)
def test_every_chart_renders_with_its_defaults(helm4: HelmBinary, tmp_path: Path, era: str) -> None:
    for chart in charts(era):
        kinds = {d["kind"] for d in render(helm4, tmp_path / chart, era, chart)}
        assert kinds & {"Deployment", "DaemonSet", "StatefulSet"}, chart


def test_nova_2019_reads_its_three_databases(helm4: HelmBinary, tmp_path: Path) -> None:
    docs = render(helm4, tmp_path, ERA_2019, "nova",
                  "endpoints.oslo_db.auth.nova.password=main",
                  "endpoints.oslo_db_api.auth.nova.password=api",
                  "endpoints.oslo_db_cell0.auth.nova.password=cell0",
                  "endpoints.oslo_db_api.auth.admin.password=apiroot")  # fmt: skip
    conf = ini(secret(docs, "nova-etc")["nova.conf"])
    assert conf["database"]["connection"] == (
        "mysql+pymysql://nova:main@mariadb.openstack.svc.cluster.local:3306/nova"
    )
    assert conf["api_database"]["connection"].endswith(
        "nova:api@mariadb.openstack.svc.cluster.local:3306/nova_api"
    )
    assert ":cell0@" in conf["cell0_database"]["connection"]
    assert ":apiroot@" in secret(docs, "nova-db-api-admin")["DB_CONNECTION"]
    sync = find(docs, "Job", "nova-db-sync")["spec"]["template"]["spec"]["containers"][0]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in sync["env"]}
    assert refs == {"TRANSPORT_URL": "nova-rabbitmq-user", "DB_CONNECTION": "nova-db-user"}


def test_todays_nova_reads_cell0_and_cell1(helm4: HelmBinary, tmp_path: Path) -> None:
    docs = render(helm4, tmp_path, ERA_CURRENT, "nova",
                  "endpoints.oslo_db.auth.nova.password=api",
                  "endpoints.oslo_db_cell0.auth.nova.password=cell0",
                  "endpoints.oslo_db_cell1.auth.admin.password=root1")  # fmt: skip
    conf = ini(secret(docs, "nova-etc")["nova.conf"])
    assert conf["api_database"]["connection"].endswith(
        ":api@mariadb.openstack.svc.cluster.local:3306/nova"
    )
    assert conf["database"]["connection"].endswith("/nova_cell1")
    assert ":cell0@" in secret(docs, "nova-db-cell0-user")["DB_CONNECTION"]
    assert ":root1@" in secret(docs, "nova-db-cell1-admin")["DB_CONNECTION"]
    assert not [d for d in docs if d["metadata"]["name"].startswith("nova-db-api")]


def test_nova_compute_is_one_daemonset_per_host_override(helm4: HelmBinary, tmp_path: Path) -> None:
    host = "conf.overrides.nova_compute.hosts[0]"
    docs = render(helm4, tmp_path, ERA_2019, "nova",
                  f"{host}.name=worker-0", f"{host}.conf.nova.DEFAULT.my_ip=10.0.0.5")  # fmt: skip
    pinned = find(docs, "DaemonSet", "nova-compute-worker-0")["spec"]["template"]["spec"]
    rest = find(docs, "DaemonSet", "nova-compute-default")["spec"]["template"]["spec"]
    for spec, op, etc in ((pinned, "In", "nova-compute-worker-0-etc"),
                          (rest, "NotIn", "nova-etc")):  # fmt: skip
        term = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        (match,) = term["nodeSelectorTerms"][0]["matchExpressions"]
        assert (match["operator"], match["values"]) == (op, ["worker-0"])
        assert spec["volumes"][0]["secret"]["secretName"] == etc
        assert spec["nodeSelector"] == {"openstack-compute-node": "enabled"}
    assert ini(secret(docs, "nova-compute-worker-0-etc")["nova.conf"])["DEFAULT"]["my_ip"] == (
        "10.0.0.5")  # fmt: skip
    assert ini(secret(docs, "nova-etc")["nova.conf"])["DEFAULT"]["my_ip"] == "0.0.0.0"
    pods = json.loads(init_env(pinned)["DEPENDENCY_POD_JSON"])
    assert {p["labels"]["application"] for p in pods if p["requireSameNode"]} == {
        "libvirt", "neutron"}  # fmt: skip


def test_neutron_agents_follow_their_labels_and_wait_for_the_ovs_agent(
    helm4: HelmBinary, tmp_path: Path
) -> None:
    docs = render(helm4, tmp_path, ERA_2019, "neutron",
                  "labels.agent.dhcp.node_selector_key=somewhere",
                  "network.backend={openvswitch}")  # fmt: skip
    dhcp = find(docs, "DaemonSet", "neutron-dhcp-agent")["spec"]["template"]["spec"]
    assert dhcp["nodeSelector"] == {"somewhere": "enabled"}
    env = init_env(dhcp)
    assert json.loads(env["DEPENDENCY_POD_JSON"]) == [{"requireSameNode": True, "labels": {
        "application": "neutron", "component": "neutron-ovs-agent"}}]  # fmt: skip
    assert env["DEPENDENCY_JOBS"] == "neutron-rabbit-init"
    assert env["DEPENDENCY_SERVICE"] == (
        "openstack:rabbitmq,openstack:neutron-server,openstack:nova-api"
    )
    ovs = find(docs, "DaemonSet", "neutron-ovs-agent")["spec"]["template"]["spec"]
    assert {p["labels"]["component"] for p in json.loads(init_env(ovs)["DEPENDENCY_POD_JSON"])} == {
        "openvswitch-vswitchd", "openvswitch-vswitchd-db"}  # fmt: skip
    # Without the Open vSwitch backend the dynamic dependency is not there.
    docs = render(helm4, tmp_path / "lb", ERA_2019, "neutron", "network.backend={linuxbridge}")
    dhcp = find(docs, "DaemonSet", "neutron-dhcp-agent")["spec"]["template"]["spec"]
    assert init_env(dhcp)["DEPENDENCY_POD_JSON"] == ""


def test_required_anti_affinity_and_rolling_updates(helm4: HelmBinary, tmp_path: Path) -> None:
    required = "requiredDuringSchedulingIgnoredDuringExecution"
    docs = render(helm4, tmp_path, ERA_CURRENT, "keystone",
                  f"pod.affinity.anti.type.default={required}", "pod.replicas.api=3")  # fmt: skip
    api = find(docs, "Deployment", "keystone-api")["spec"]
    assert api["replicas"] == 3
    assert api["strategy"]["rollingUpdate"] == {"maxUnavailable": 1, "maxSurge": 3}
    (term,) = api["template"]["spec"]["affinity"]["podAntiAffinity"][required]
    assert term["labelSelector"]["matchLabels"] == {
        "release_group": "osh-openstack-keystone",
        "application": "keystone",
        "component": "api",
    }
    assert term["topologyKey"] == "kubernetes.io/hostname"


def test_the_bundle_metadata(tmp_path: Path) -> None:
    from tests.helm_charts.openstack_app import write_sources

    write_sources(tmp_path, V2)
    meta = yaml.safe_load((tmp_path / "metadata.yaml").read_text())
    assert meta == {"app_name": APP_NAME, "app_version": "1.0-2", "maintain_user_overrides": True}
