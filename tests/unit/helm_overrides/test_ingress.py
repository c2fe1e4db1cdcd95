"""The ingress chart in each namespace StarlingX's app deploys it into (issue 22, item 11)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import yaml

from armada.documents import load_documents
from helm_overrides.merge import coalesce
from helm_overrides.plugin import LabelRequirement
from helm_overrides.snapshot import HostView, ModelSnapshot
from sysinv_conductor.overrides.generate import ChartOverrides, OverrideGenerator

REGISTRY = "registry.local:9001"

#: The parts of the ingress chart's values.yaml (openstack-helm-infra) these tests read.
CHART_VALUES = {
    "deployment": {"mode": "namespace", "type": "Deployment",
                   "cluster": {"class": "nginx-cluster"}},
    "images": {"tags": {
        "ingress": "quay.io/kubernetes-ingress-controller/nginx-ingress-controller:0.23.0",
        "error_pages": "gcr.io/google_containers/defaultbackend:1.0",
        "keepalived": "docker.io/osixia/keepalived:1.4.5",
        "dep_check": "quay.io/stackanetes/kubernetes-entrypoint:v0.3.1",
    }},
    "labels": {
        "server": {"node_selector_key": "openstack-control-plane",
                   "node_selector_value": "enabled"},
        "error_server": {"node_selector_key": "openstack-control-plane",
                         "node_selector_value": "enabled"},
    },
    "network": {"host_namespace": False},
    "pod": {"replicas": {"ingress": 1, "error_page": 1}},
}  # fmt: skip

#: As StarlingX's 2019 stx-openstack manifest deploys it: once per namespace, with the same
#: document values (replicas 2, some images dropped).
DOC = """
schema: armada/Chart/v1
metadata: {{schema: metadata/Document/v1, name: {ns}-ingress}}
data:
  chart_name: ingress
  release: {ns}-ingress
  namespace: {ns}
  values:
    pod: {{replicas: {{error_page: 2, ingress: 2}}}}
    images: {{tags: {{keepalived: null}}}}
  source: {{type: tar, location: http://x/ingress-0.1.0.tgz, subpath: ingress}}
"""
MANIFEST = """
schema: armada/Manifest/v1
metadata: {schema: metadata/Document/v1, name: m}
data: {release_prefix: osh, chart_groups: [g]}
---
schema: armada/ChartGroup/v1
metadata: {schema: metadata/Document/v1, name: g}
data: {sequenced: false, chart_group: [kube-system-ingress, openstack-ingress, x-ingress]}
"""


def _generate(tmp_path: Path, snap: ModelSnapshot) -> dict[str, ChartOverrides]:
    data = yaml.safe_dump(CHART_VALUES).encode()
    with tarfile.open(tmp_path / "ingress-0.1.0.tgz", "w:gz") as tar:
        info = tarfile.TarInfo("ingress/values.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    text = MANIFEST + "".join("---" + DOC.format(ns=ns) for ns in ("kube-system", "openstack", "x"))
    docs = load_documents(text)
    charts = OverrideGenerator().generate(snap, "stx-openstack", docs, tmp_path, {})
    return {co.namespace: co for co in charts}


def _snap(mode: str, controllers: int) -> ModelSnapshot:
    hosts = tuple(
        HostView(f"controller-{i}", "controller", labels={"openstack-control-plane": "enabled"})
        for i in range(controllers)
    )
    kind = "All-in-one" if mode == "simplex" else "Standard"
    return ModelSnapshot("s", kind, mode, "RegionOne", hosts=hosts, registry_address=REGISTRY)


def _images() -> dict[str, Any]:
    tags = dict(CHART_VALUES["images"]["tags"])
    del tags["keepalived"]  # the document removes it
    return {"tags": {k: f"{REGISTRY}/{v}" for k, v in sorted(tags.items())}}


def test_openstack_and_kube_system_each_get_their_own_overrides(tmp_path: Path) -> None:
    charts = _generate(tmp_path, _snap("duplex", 2))
    control = (LabelRequirement("openstack-control-plane", "enabled", ("controller",)),)

    openstack = charts["openstack"]
    assert openstack.note is None and openstack.requires == control
    assert openstack.system == {
        "pod": {"replicas": {"ingress": 2, "error_page": 2}},
        "endpoints": {"cluster_domain_suffix": "cluster.local"},
        "images": _images(),
    }
    values = coalesce(CHART_VALUES, openstack.helm_values())
    assert values["deployment"]["mode"] == "namespace"
    assert values["deployment"]["type"] == "Deployment"
    assert values["network"]["host_namespace"] is False

    kube = charts["kube-system"]
    assert kube.note is None and kube.requires == control
    assert kube.system == {
        "pod": {"replicas": {"error_page": 2}},
        "deployment": {"mode": "cluster", "type": "DaemonSet"},
        "network": {"host_namespace": True},
        "endpoints": {"cluster_domain_suffix": "cluster.local"},
        "images": _images(),
    }
    values = coalesce(CHART_VALUES, kube.helm_values())
    assert values["deployment"] == {
        "mode": "cluster", "type": "DaemonSet", "cluster": {"class": "nginx-cluster"},
    }  # fmt: skip
    assert values["network"]["host_namespace"] is True
    # The application's placement stays, in both namespaces.
    assert values["labels"] == CHART_VALUES["labels"]

    # A namespace the plugin does not know: only the images, and why.
    other = charts["x"]
    assert other.note == "chart ingress supports namespaces kube-system, openstack, not x"
    assert other.system == {"images": _images()}


def test_replicas_follow_the_controllers_in_both_namespaces(tmp_path: Path) -> None:
    charts = _generate(tmp_path, _snap("simplex", 1))
    assert charts["openstack"].system is not None
    assert charts["openstack"].system["pod"] == {"replicas": {"ingress": 1, "error_page": 1}}
    assert charts["kube-system"].system is not None
    assert charts["kube-system"].system["pod"] == {"replicas": {"error_page": 1}}
