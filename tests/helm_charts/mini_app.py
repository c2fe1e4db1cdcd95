"""A test application of small charts that read the key paths the real charts read.

Each chart is named as its real counterpart, so its override plugin applies, and reads
the same value paths (tests/data/chart_key_paths.json says where those come from): a
Deployment per scaled component, node selectors from ``labels.<component>``, images from
``images.tags``, credentials from ``endpoints``. Rendering one with ``helm template`` shows
where our overrides land; it is not the real chart.

Placement is StarlingX's (tests/helm_charts/placements.py): neutron's dhcp agent on compute
nodes and its OVS agent on ``openvswitch``, the platform charts on
``node-role.kubernetes.io/master``; no plugin may move them. ``horizon`` has no plugin: only
its images are rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.integration.example_app import build_bundle
from tests.servers.helm import HelmBinary

APP_NAME = "openstack-mini"
CONTROL = "openstack-control-plane"
COMPUTE = "openstack-compute-node"
OVS = "openvswitch"
#: Where StarlingX's platform charts put their pods (their values.yaml).
PLATFORM_SELECTOR = {"node-role.kubernetes.io/master": ""}


@dataclass(frozen=True)
class MiniChart:
    name: str
    namespace: str = "openstack"
    #: pod.replicas component -> (the labels.<path> placing it, its images.tags key).
    deployments: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: Other labels.<path> the chart reads, with the label its values.yaml defaults to.
    labels: dict[str, str] = field(default_factory=dict)
    #: endpoints.* password paths the chart reads.
    passwords: tuple[str, ...] = ()
    identity: bool = False
    per_host: bool = False
    #: Whether sysinv has an override plugin for it.
    plugin: bool = True


OPENSTACK: tuple[MiniChart, ...] = (
    MiniChart("mariadb", deployments={"server": ("server", "mariadb")},
              labels={"job": CONTROL}, passwords=("oslo_db.auth.admin",)),
    MiniChart("rabbitmq", deployments={"server": ("server", "rabbitmq")},
              labels={"jobs": CONTROL}, passwords=("oslo_messaging.auth.user",)),
    MiniChart("memcached", deployments={"server": ("server", "memcached")}),
    MiniChart("ingress", deployments={"ingress": ("server", "ingress"),
                                      "error_page": ("error_server", "error_pages")}),
    MiniChart("keystone", deployments={"api": ("api", "keystone_api")}, labels={"job": CONTROL},
              passwords=("identity.auth.admin", "oslo_db.auth.admin", "oslo_db.auth.keystone",
                         "oslo_messaging.auth.admin", "oslo_messaging.auth.keystone"),
              identity=True),
    MiniChart("placement", deployments={"api": ("api", "placement")}, labels={"job": CONTROL},
              passwords=("identity.auth.admin", "identity.auth.placement",
                         "oslo_db.auth.admin", "oslo_db.auth.placement"), identity=True),
    MiniChart("glance", deployments={"api": ("api", "glance_api")}, labels={"job": CONTROL},
              passwords=("identity.auth.admin", "identity.auth.glance"), identity=True),
    MiniChart("neutron", deployments={"server": ("server", "neutron_server")},
              labels={"ovs": OVS, "agent.dhcp": COMPUTE},
              passwords=("identity.auth.admin", "identity.auth.neutron",
                         "identity.auth.nova"), identity=True),
    MiniChart("nova", deployments={"osapi": ("osapi", "nova_api"),
                                   "scheduler": ("scheduler", "nova_scheduler")},
              labels={"agent.compute": COMPUTE},
              passwords=("identity.auth.admin", "identity.auth.nova",
                         "identity.auth.neutron", "oslo_db.auth.nova", "oslo_db.auth.admin",
                         "oslo_db_cell0.auth.nova", "oslo_db_cell0.auth.admin"),
              identity=True, per_host=True),
    MiniChart("libvirt", labels={"agent.libvirt": COMPUTE}),
    MiniChart("openvswitch", labels={"ovs": OVS}),
    MiniChart("horizon", deployments={"server": ("dashboard", "horizon")}, plugin=False),
)  # fmt: skip
PLATFORM = ("rbd-provisioner", "ceph-pools-audit")
#: Every chart of the app.
CHART_NAMES = frozenset(c.name for c in OPENSTACK) | frozenset(PLATFORM)
#: Those with an override plugin of the same name.
PLUGIN_CHARTS = CHART_NAMES - {c.name for c in OPENSTACK if not c.plugin}


def _values(chart: MiniChart) -> dict[str, Any]:
    values: dict[str, Any] = {"pod": {"replicas": {}}, "labels": {}, "images": {"tags": {}}}
    for component, (label, image) in chart.deployments.items():
        values["pod"]["replicas"][component] = 1
        values["labels"][label] = {
            "node_selector_key": CONTROL,
            "node_selector_value": "enabled",
        }
        values["images"]["tags"][image] = f"docker.io/openstackhelm/{image}:2024.1-ubuntu_jammy"
    values["images"]["tags"]["dep_check"] = "quay.io/airshipit/kubernetes-entrypoint:v1.0.0"
    for path, label in chart.labels.items():
        node = values["labels"]
        for key in path.split("."):
            node = node.setdefault(key, {})
        node.update({"node_selector_key": label, "node_selector_value": "enabled"})
    endpoints: dict[str, Any] = {"cluster_domain_suffix": "cluster.local"}
    for path in chart.passwords:
        node = endpoints
        for key in path.split("."):
            node = node.setdefault(key, {})
        node.update({"username": path.rsplit(".", 1)[-1], "password": "password"})
        if path.startswith("identity."):
            node["region_name"] = "RegionOne"
    values["endpoints"] = endpoints
    if chart.per_host:
        values["conf"] = {"overrides": {"nova_compute": {"hosts": []}}}
    return values


def _deployment(component: str, label: str, image: str) -> str:
    v = ".Values"
    return f"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ .Release.Name }}}}-{component.replace("_", "-")}
  labels: {{app: {{{{ .Release.Name }}}}-{component.replace("_", "-")}}}
spec:
  replicas: {{{{ {v}.pod.replicas.{component} }}}}
  selector:
    matchLabels: {{app: {{{{ .Release.Name }}}}-{component.replace("_", "-")}}}
  template:
    metadata:
      labels: {{app: {{{{ .Release.Name }}}}-{component.replace("_", "-")}}}
    spec:
      nodeSelector:
        {{{{ {v}.labels.{label}.node_selector_key }}}}: {{{{ {v}.labels.{label}.node_selector_value | quote }}}}
      containers:
        - name: main
          image: {{{{ {v}.images.tags.{image} }}}}
          command: ["sleep", "infinity"]
"""  # noqa: E501


def _facts(chart: MiniChart) -> str:
    """A ConfigMap of everything else the chart reads, and a Secret of its passwords."""
    lines = [
        "---", "apiVersion: v1", "kind: ConfigMap",
        "metadata: {name: '{{ .Release.Name }}-facts'}", "data:",
        "  cluster_domain_suffix: {{ .Values.endpoints.cluster_domain_suffix | quote }}",
        "  dep_check_image: {{ .Values.images.tags.dep_check | quote }}",
    ]  # fmt: skip
    for path in chart.labels:
        key = path.replace(".", "_")
        lines.append(f"  label_{key}: {{{{ printf \"%s=%s\" .Values.labels.{path}.node_selector_key"
                     f" .Values.labels.{path}.node_selector_value | quote }}}}")  # fmt: skip
    if chart.identity:
        lines.append("  region: {{ .Values.endpoints.identity.auth.admin.region_name | quote }}")
    if chart.per_host:
        lines += [
            "  {{- range $h := .Values.conf.overrides.nova_compute.hosts }}",
            "  host_{{ $h.name }}: {{ $h.conf.nova.DEFAULT.my_ip | quote }}",
            "  {{- end }}",
        ]
    if chart.passwords:
        lines += ["---", "apiVersion: v1", "kind: Secret",
                  "metadata: {name: '{{ .Release.Name }}-passwords'}", "stringData:"]  # fmt: skip
        for path in chart.passwords:
            key = path.replace(".", "_")
            lines.append(f"  {key}: {{{{ .Values.endpoints.{path}.password | quote }}}}")
    return "\n".join(lines) + "\n"


RBD_TEMPLATE = """---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  labels: {app: {{ .Release.Name }}}
spec:
  replicas: {{ .Values.global.replicas }}
  selector:
    matchLabels: {app: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}}
    spec:
      nodeSelector:
{{ toYaml .Values.global.nodeSelector | indent 8 }}
      containers:
        - name: main
          image: {{ .Values.images.tags.rbd_provisioner }}
          command: ["sleep", "infinity"]
{{- $defaults := .Values.classdefaults }}
{{- range $c := .Values.classes }}
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: {{ $c.name }}
  {{- if eq $c.name $.Values.global.defaultStorageClass }}
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
  {{- end }}
provisioner: ceph.com/rbd
parameters:
  monitors: {{ join "," $defaults.monitors | quote }}
  adminId: {{ $defaults.adminId | quote }}
  adminSecretName: {{ $defaults.adminSecretName | quote }}
  pool: {{ $c.pool_name | quote }}
  userId: {{ $c.userId | quote }}
  userSecretName: {{ $c.userSecretName | quote }}
  replication: {{ $c.replication | quote }}
{{- end }}
"""

AUDIT_TEMPLATE = """---
apiVersion: v1
kind: ConfigMap
metadata: {name: '{{ .Release.Name }}-facts'}
data:
  monitors: {{ join "," .Values.conf.ceph.monitors | quote }}
  node_selector: {{ toJson .Values.nodeSelector | quote }}
  {{- range $t := .Values.conf.ceph.storage_tiers }}
  tier_{{ $t.name }}: {{ printf "%v/%v/%v" $t.replication $t.min_replication $t.crush_rule_name | quote }}
  {{- end }}
"""  # noqa: E501


def _write_chart(root: Path, name: str, values: dict[str, Any], templates: str) -> None:
    d = root / "charts" / name
    (d / "templates").mkdir(parents=True)
    (d / "Chart.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v2", "name": name, "version": "0.1.0"})
    )
    (d / "values.yaml").write_text(yaml.safe_dump(values))
    (d / "templates" / "objects.yaml").write_text(templates)


def write_sources(root: Path) -> list[MiniChart]:
    """The app's source tree (metadata, manifest, charts) under ``root``."""
    charts = list(OPENSTACK)
    for chart in charts:
        body = "".join(_deployment(c, lb, i) for c, (lb, i) in chart.deployments.items())
        body += _facts(chart)
        _write_chart(root, chart.name, _values(chart), body)
    _write_chart(root, "rbd-provisioner", {
        "global": {"replicas": 1, "defaultStorageClass": "general",
                   "nodeSelector": PLATFORM_SELECTOR},
        "classdefaults": {"monitors": [], "adminId": "admin", "adminSecretName": "ceph-admin"},
        "classes": [],
        "images": {"tags": {"rbd_provisioner": "quay.io/external_storage/rbd-provisioner:v2.1.1"}},
    }, RBD_TEMPLATE)  # fmt: skip
    _write_chart(root, "ceph-pools-audit", {
        "conf": {"ceph": {"monitors": [], "storage_tiers": []}},
        "nodeSelector": PLATFORM_SELECTOR,
        "images": {"tags": {"ceph_config_helper": "docker.io/openstackhelm/ceph-config-helper:v1"}},
    }, AUDIT_TEMPLATE)  # fmt: skip
    platform = [MiniChart(name, "kube-system") for name in PLATFORM]
    docs: list[dict[str, Any]] = []
    for chart in charts + platform:
        docs.append({
            "schema": "armada/Chart/v1", "metadata": {"schema": "metadata/Document/v1",
                                                      "name": f"mini-{chart.name}"},
            "data": {"chart_name": chart.name, "release": chart.name,
                     "namespace": chart.namespace, "values": {},
                     "wait": {"timeout": 120}, "install": {"no_hooks": False},
                     "upgrade": {"no_hooks": False},
                     "source": {"type": "tar", "location": f"http://x/charts/{chart.name}-0.1.0.tgz",
                                "subpath": chart.name}},
        })  # fmt: skip
    docs.append({
        "schema": "armada/ChartGroup/v1",
        "metadata": {"schema": "metadata/Document/v1", "name": "mini-all"},
        "data": {"description": "all", "sequenced": False,
                 "chart_group": [f"mini-{c.name}" for c in charts + platform]},
    })  # fmt: skip
    docs.append({
        "schema": "armada/Manifest/v1",
        "metadata": {"schema": "metadata/Document/v1", "name": f"{APP_NAME}-manifest"},
        "data": {"release_prefix": "mini", "chart_groups": ["mini-all"]},
    })  # fmt: skip
    (root / f"{APP_NAME}-manifest.yaml").write_text(yaml.safe_dump_all(docs))
    (root / "metadata.yaml").write_text(
        yaml.safe_dump({"app_name": APP_NAME, "app_version": "1.0-1"})
    )
    return charts + platform


def build_mini_app(helm: HelmBinary, tmp: Path, only: set[str] | None = None) -> Path:
    src = tmp / "mini-src"
    write_sources(src)
    if only is not None:
        _restrict(src, only)
    return build_bundle(helm, src, tmp / "mini-out")


def _restrict(src: Path, only: set[str]) -> None:
    import shutil

    for d in (src / "charts").iterdir():
        if d.name not in only:
            shutil.rmtree(d)
    manifest = src / f"{APP_NAME}-manifest.yaml"
    docs = list(yaml.safe_load_all(manifest.read_text()))
    keep = {f"mini-{n}" for n in only}
    docs = [d for d in docs if d["schema"] != "armada/Chart/v1" or d["metadata"]["name"] in keep]
    for d in docs:
        if d["schema"] == "armada/ChartGroup/v1":
            d["data"]["chart_group"] = [c for c in d["data"]["chart_group"] if c in keep]
    manifest.write_text(yaml.safe_dump_all(docs))


def chart_source(tmp: Path, name: str) -> Path:
    return tmp / "mini-src" / "charts" / name
