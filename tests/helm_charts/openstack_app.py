"""An OpenStack application bundle shaped like StarlingX's stx-openstack, for the tests.

The charts are the tests' own, written from the facts in
``tests/helm_charts/openstack_charts.py``: each reads the value keys its real counterpart
(openstack-helm, openstack-helm-infra, StarlingX's nova-api-proxy) reads in the given era,
and renders what the real one would deploy for them:

- a Deployment, DaemonSet or StatefulSet per component, placed by
  ``labels.<component>.node_selector_key/value``, spread by ``pod.affinity.anti`` as
  helm-toolkit does, with ``pod.replicas`` and the rolling-update settings of
  ``pod.lifecycle``; nova-compute as helm-toolkit's per-host daemonsets
  (``conf.overrides.nova_compute.hosts``), each with its own nova.conf;
- the dependencies of ``dependencies.static.<key>`` (merged with
  ``dependencies.dynamic.targeted.<backend>.<key>`` for each ``network.backend``) in a
  kubernetes-entrypoint init container (``DEPENDENCY_SERVICE``, ``DEPENDENCY_JOBS``,
  ``DEPENDENCY_POD_JSON``), as the real charts do. Containers do not run on the test
  cluster's kwok nodes, so nothing waits there: the tests check that what each init
  container would wait for is there (tests/integration/openstack_checks.py). Like the
  real charts, none of them turns a ``requireSameNode`` dependency into pod affinity:
  Kubernetes needs one pod to match every term of a required pod affinity, and the
  neutron OVS agent (vswitchd and its database, in 2019) and nova-compute (libvirt and
  the OVS agent) each need two different pods on their node;
- the Jobs the workloads wait for (db-init, db-sync, ks-user, ks-service, ks-endpoints,
  rabbit-init...), their variables taken from the chart's Secrets as helm-toolkit's job
  manifests take them; the Jobs are ordinary release objects in both eras (the newest
  charts make db-init and db-sync hooks);
- the Secrets that carry what ``endpoints`` describes: ``DB_CONNECTION`` per
  ``secrets.oslo_db*.<class>``, ``RABBITMQ_CONNECTION`` (and nova's ``TRANSPORT_URL`` in
  2019), keystone openrc variables, and the service's configuration file (``<svc>-etc``)
  with ``[database] connection`` and the like built from ``endpoints.oslo_db*`` where
  ``conf`` leaves them empty;
- the Services other charts' dependencies resolve to (``endpoints.<svc>.hosts``).

The Armada manifest follows stx-openstack's of 2019: chart documents ``openstack-<chart>``
(and ``kube-system-ingress``) with ``wait`` labels and timeout, ``upgrade.pre.delete`` of
the release's jobs and a ``source`` tarball, chart groups from ``kube-system-ingress`` to
``openstack-compute-kit``, ``release_prefix: osh``; its values place the charts as
StarlingX's did (neutron's agents on compute nodes, Open vSwitch where ``openvswitch`` is
enabled) and set StarlingX's images.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.helm_charts.openstack_charts import (
    COMPUTE,
    ERA_2019,
    ERA_CURRENT,
    OVS,
    ChartFacts,
    ConfFile,
    Env,
    Job,
    Service,
    Workload,
    charts,
)
from tests.integration.example_app import build_bundle
from tests.servers.helm import HelmBinary

APP_NAME = "stx-openstack"
PREFIX = "osh"
CHART_VERSIONS = {ERA_2019: "0.1.0", ERA_CURRENT: "0.2.0"}
#: Every chart's wait timeout: kwok makes pods Ready at once, so a minute is plenty.
WAIT_TIMEOUT = 60


@dataclass(frozen=True)
class Release:
    """A chart document of the manifest."""

    doc: str
    chart: str
    namespace: str
    group: str

    @property
    def name(self) -> str:
        return f"{PREFIX}-{self.doc}"


RELEASES = (
    Release("kube-system-ingress", "ingress", "kube-system", "kube-system-ingress"),
    Release("openstack-ingress", "ingress", "openstack", "openstack-ingress"),
    Release("openstack-mariadb", "mariadb", "openstack", "openstack-mariadb"),
    Release("openstack-memcached", "memcached", "openstack", "openstack-memcached"),
    Release("openstack-rabbitmq", "rabbitmq", "openstack", "openstack-rabbitmq"),
    Release("openstack-keystone", "keystone", "openstack", "openstack-keystone"),
    Release("openstack-glance", "glance", "openstack", "openstack-glance"),
    Release("openstack-libvirt", "libvirt", "openstack", "openstack-compute-kit"),
    Release("openstack-openvswitch", "openvswitch", "openstack", "openstack-compute-kit"),
    Release("openstack-nova", "nova", "openstack", "openstack-compute-kit"),
    Release("openstack-nova-api-proxy", "nova-api-proxy", "openstack", "openstack-compute-kit"),
    Release("openstack-neutron", "neutron", "openstack", "openstack-compute-kit"),
    Release("openstack-placement", "placement", "openstack", "openstack-compute-kit"),
)
GROUPS = {
    "kube-system-ingress": ("System Ingress Controller", False),
    "openstack-ingress": ("OpenStack Ingress Controller", False),
    "openstack-mariadb": ("Mariadb", True),
    "openstack-memcached": ("Memcached", True),
    "openstack-rabbitmq": ("Rabbitmq", True),
    "openstack-keystone": ("Deploy keystone", True),
    "openstack-glance": ("Deploy glance", True),
    "openstack-compute-kit": ("Deploy nova and neutron, as well as supporting services", False),
}
#: The OpenStack services whose images StarlingX builds (stx-<service>), and the helper
#: images of the keystone and database jobs (stx-heat in StarlingX's manifest).
STX_SERVICES = ("keystone", "glance", "nova", "neutron", "placement")
STX_HELPERS = ("db_init", "db_sync", "ks_user", "ks_service", "ks_endpoints", "bootstrap")


# --- the charts' shared helpers ---------------------------------------------------------

TOOLKIT = r"""{{/*
Shared helpers of the test charts (tests/helm_charts/openstack_app.py). They read the
values helm-toolkit reads for the real charts; the code is the tests' own.
*/}}

{{- define "osb.labels" -}}
release_group: {{ .root.Release.Name }}
application: {{ .application }}
component: {{ .component }}
{{- end -}}

{{/* endpoints.<endpoint>.hosts.<type>, else its default host */}}
{{- define "osb.host" -}}
{{- $ep := index .root.Values.endpoints .endpoint -}}
{{- index $ep.hosts .type | default $ep.hosts.default -}}
{{- end -}}

{{- define "osb.fqdn" -}}
{{- $ep := index .root.Values.endpoints .endpoint -}}
{{- $ns := $ep.namespace | default .root.Release.Namespace -}}
{{- printf "%s.%s.svc.%s" (include "osb.host" .) $ns .root.Values.endpoints.cluster_domain_suffix -}}
{{- end -}}

{{/* endpoints.<endpoint>.port.<port>.<port_type>, else its default */}}
{{- define "osb.port" -}}
{{- $ports := index (index .root.Values.endpoints .endpoint).port .port -}}
{{- index $ports (.port_type | default "default") | default $ports.default -}}
{{- end -}}

{{/* scheme://user:password@host:port/path of endpoints.<endpoint> for auth.<user> */}}
{{- define "osb.uri" -}}
{{- $ep := index .root.Values.endpoints .endpoint -}}
{{- $auth := index $ep.auth .user -}}
{{- $scheme := $ep.scheme -}}
{{- if kindIs "map" $scheme }}{{ $scheme = $scheme.default }}{{ end -}}
{{- $path := $ep.path | default "" -}}
{{- if kindIs "map" $path }}{{ $path = $path.default }}{{ end -}}
{{- $host := include "osb.fqdn" (dict "root" .root "endpoint" .endpoint "type" "internal") -}}
{{- printf "%s://%v:%v@%s:%s%s" $scheme $auth.username $auth.password $host (include "osb.port" .) $path -}}
{{- end -}}

{{- define "osb.keystone_url" -}}
{{- $ep := .root.Values.endpoints.identity -}}
{{- $host := include "osb.fqdn" (dict "root" .root "endpoint" "identity" "type" "internal") -}}
{{- $port := include "osb.port" (dict "root" .root "endpoint" "identity" "port" "api" "port_type" "internal") -}}
{{- printf "%s://%s:%s%s" $ep.scheme.default $host $port $ep.path.default -}}
{{- end -}}

{{/* The openrc variables of endpoints.identity.auth.<user>, as Secret data */}}
{{- define "osb.openrc" -}}
{{- $auth := index .root.Values.endpoints.identity.auth .user -}}
OS_AUTH_URL: {{ include "osb.keystone_url" . | b64enc }}
OS_REGION_NAME: {{ $auth.region_name | toString | b64enc }}
OS_INTERFACE: {{ $auth.interface | default "internal" | b64enc }}
OS_PROJECT_DOMAIN_NAME: {{ $auth.project_domain_name | toString | b64enc }}
OS_PROJECT_NAME: {{ $auth.project_name | toString | b64enc }}
OS_USER_DOMAIN_NAME: {{ $auth.user_domain_name | toString | b64enc }}
OS_USERNAME: {{ $auth.username | toString | b64enc }}
OS_PASSWORD: {{ $auth.password | toString | b64enc }}
{{- end -}}

{{/* dependencies.static.<key>, with dynamic.targeted.<backend>.<key> of every
     network.backend added to it, as JSON */}}
{{- define "osb.deps" -}}
{{- $v := .root.Values -}}
{{- $out := dict "jobs" list "services" list "pod" list -}}
{{- $parts := list (index $v.dependencies.static .key | default dict) -}}
{{- if and $v.network $v.dependencies.dynamic -}}
{{- range $backend := $v.network.backend | default list -}}
{{- $targeted := index ($v.dependencies.dynamic.targeted | default dict) $backend | default dict -}}
{{- $parts = append $parts (index $targeted $.key | default dict) -}}
{{- end -}}
{{- end -}}
{{- range $part := $parts -}}
{{- range $k := list "jobs" "services" "pod" -}}
{{- $_ := set $out $k (concat (index $out $k) (index $part $k | default list)) -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* The init container that waits for the dependencies (kubernetes-entrypoint) */}}
{{- define "osb.dependency_init" -}}
{{- $root := .root -}}
{{- $services := list -}}
{{- range $s := .deps.services -}}
{{- $ep := index $root.Values.endpoints $s.service -}}
{{- $host := include "osb.host" (dict "root" $root "endpoint" $s.service "type" $s.endpoint) -}}
{{- $services = append $services (printf "%s:%s" ($ep.namespace | default $root.Release.Namespace) $host) -}}
{{- end -}}
- name: init
  image: {{ $root.Values.images.tags.dep_check | quote }}
  imagePullPolicy: {{ $root.Values.images.pull_policy }}
  command: ["kubernetes-entrypoint"]
  env:
    - name: POD_NAME
      valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.name}}
    - name: NAMESPACE
      valueFrom: {fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}
    - name: DEPENDENCY_SERVICE
      value: {{ join "," $services | quote }}
    - name: DEPENDENCY_JOBS
      value: {{ join "," .deps.jobs | quote }}
    - name: DEPENDENCY_DAEMONSET
      value: ""
    - name: DEPENDENCY_CONTAINER
      value: ""
    - name: DEPENDENCY_POD_JSON
      value: {{ if .deps.pod }}{{ toJson .deps.pod | quote }}{{ else }}""{{ end }}
    - name: COMMAND
      value: "echo done"
{{- end -}}

{{/* affinity: pod.affinity.anti for the replicated kinds, and the per-host
     daemonsets' node affinity */}}
{{- define "osb.affinity" -}}
{{- $affinity := dict -}}
{{- if .anti -}}
{{- $anti := .root.Values.pod.affinity.anti -}}
{{- $type := index $anti.type .component | default $anti.type.default -}}
{{- $term := dict "labelSelector" (dict "matchLabels" (include "osb.labels" . | fromYaml)) "topologyKey" $anti.topologyKey.default -}}
{{- if eq $type "preferredDuringSchedulingIgnoredDuringExecution" -}}
{{- $weight := index ($anti.weight | default dict) "default" | default 10 -}}
{{- $term = dict "weight" $weight "podAffinityTerm" $term -}}
{{- end -}}
{{- $_ := set $affinity "podAntiAffinity" (dict $type (list $term)) -}}
{{- end -}}
{{- if .hosts -}}
{{- $match := dict "key" "kubernetes.io/hostname" "operator" .hostsOperator "values" .hosts -}}
{{- $terms := list (dict "matchExpressions" (list $match)) -}}
{{- $_ := set $affinity "nodeAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (dict "nodeSelectorTerms" $terms)) -}}
{{- end -}}
{{- if $affinity -}}
affinity:
{{ toYaml $affinity | indent 2 }}
{{- end -}}
{{- end -}}

{{/* An oslo.config file from a map of sections */}}
{{- define "osb.ini" -}}
{{- range $section, $options := . }}
[{{ $section }}]
{{- range $key, $value := $options }}
{{ $key }} = {{ if kindIs "slice" $value }}{{ join "," $value }}{{ else }}{{ $value }}{{ end }}
{{- end }}
{{- end }}
{{- end -}}
"""  # noqa: E501


# --- rendering one chart ---------------------------------------------------------------


def _path(dotted: str) -> str:
    """A values path as template code: ``agent.dhcp`` -> ``$.Values.labels.agent.dhcp``."""
    return "$.Values." + dotted


def _name(name: str) -> str:
    return name.replace("{release}", "{{ $.Release.Name }}")


def _secret_ref(ref: str) -> str:
    if ref.startswith("name:"):
        return _name(ref[5:])
    return "{{ " + _path(f"secrets.{ref}") + " }}"


def _ctx(facts: ChartFacts, component: str, deps: str | None, anti: bool = False) -> str:
    deps_code = (
        f'(include "osb.deps" (dict "root" $ "key" "{deps}") | fromJson)' if deps else "dict"
    )
    return (
        f'{{{{- $ctx := dict "root" $ "application" "{facts.app}" "component" "{component}" '
        f'"deps" {deps_code} "anti" {str(anti).lower()} }}}}'
    )


def _node_selector(label: str, indent: int) -> str:
    pad = " " * indent
    return (
        f"{pad}nodeSelector:\n"
        f"{pad}  {{{{ {_path('labels.' + label)}.node_selector_key }}}}: "
        f"{{{{ {_path('labels.' + label)}.node_selector_value | quote }}}}\n"
    )


def _env(env: tuple[Env, ...], indent: int) -> str:
    if not env:
        return ""
    pad = " " * indent
    lines = [f"{pad}env:"]
    for e in env:
        if e.secret is not None:
            lines += [f"{pad}  - name: {e.name}", f"{pad}    valueFrom:",
                      f"{pad}      secretKeyRef:",
                      f"{pad}        name: {_secret_ref(e.secret)}",
                      f"{pad}        key: {e.key}"]  # fmt: skip
        else:
            lines += [f"{pad}  - name: {e.name}", f"{pad}    value: {e.value!r}"]
    return "\n".join(lines) + "\n"


def _etc_mount(svc: str, secret: str | None, indent: int) -> tuple[str, str]:
    """(container volumeMounts, pod volumes) for the etc Secret."""
    if secret is None:
        return "", ""
    pad = " " * indent
    mounts = (
        f"{pad}  volumeMounts:\n{pad}    - {{name: etc, mountPath: /etc/{svc}, readOnly: true}}\n"
    )
    volumes = f"      volumes:\n        - name: etc\n          secret: {{secretName: {secret}}}\n"
    return mounts, volumes


def _pod(facts: ChartFacts, w: Workload, etc: str | None) -> str:
    """A workload's pod template (under ``spec.template``)."""
    extra = "".join(f"        {k}: {v}\n" for k, v in w.pod_labels)
    mounts, volumes = _etc_mount(facts.name, etc, 8)
    affinity = '{{- with include "osb.affinity" $ctx }}'
    return (
        "  template:\n    metadata:\n      labels:\n"
        '{{ include "osb.labels" $ctx | indent 8 }}\n'
        + extra
        + "    spec:\n"
        + _node_selector(w.label, 6)
        + affinity
        + "\n{{ . | indent 6 }}\n{{- end }}\n"
        "      initContainers:\n"
        '{{ include "osb.dependency_init" $ctx | indent 8 }}\n'
        "      containers:\n"
        f"        - name: {w.component.replace('_', '-')}\n"
        f"          image: {{{{ {_path('images.tags.' + w.image)} | quote }}}}\n"
        "          imagePullPolicy: {{ $.Values.images.pull_policy }}\n"
        f'          command: ["/tmp/{w.component}.sh"]\n' + mounts + volumes
    )


def _workload(facts: ChartFacts, w: Workload, service_name: str | None) -> str:
    anti = w.kind != "DaemonSet"
    head = (
        (f"{{{{- if {_path('manifests.' + str(w.flag))} }}}}\n" if w.flag else "{{- if true }}\n")
        + _ctx(facts, w.component, w.deps, anti)
        + "\n"
    )
    spec = ""
    if w.kind == "Deployment":
        up = _path("pod.lifecycle.upgrades.deployments")
        spec = (
            f"  replicas: {{{{ {_path('pod.replicas.' + str(w.replicas))} }}}}\n"
            f"  revisionHistoryLimit: {{{{ {up}.revision_history }}}}\n"
            "  strategy:\n"
            f"    type: {{{{ {up}.pod_replacement_strategy }}}}\n"
            "    rollingUpdate:\n"
            f"      maxUnavailable: {{{{ {up}.rolling_update.max_unavailable }}}}\n"
            f"      maxSurge: {{{{ {up}.rolling_update.max_surge }}}}\n"
        )
    elif w.kind == "StatefulSet":
        spec = (
            f"  serviceName: {service_name or _name(w.name)}\n"
            "  podManagementPolicy: Parallel\n"
            f"  replicas: {{{{ {_path('pod.replicas.' + str(w.replicas))} }}}}\n"
        )

    def one(name: str, etc: str | None, hosts: str = "", operator: str = "") -> str:
        pin = (f'{{{{- $_ := set $ctx "hosts" {hosts} }}}}{{{{- $_ := set $ctx '
               f'"hostsOperator" "{operator}" }}}}\n') if hosts else ""  # fmt: skip
        return (
            pin + f"---\napiVersion: apps/v1\nkind: {w.kind}\nmetadata:\n  name: {name}\n"
            '  labels:\n{{ include "osb.labels" $ctx | indent 4 }}\nspec:\n'
            + spec
            + '  selector:\n    matchLabels:\n{{ include "osb.labels" $ctx | indent 6 }}\n'
            + _pod(facts, w, etc)
        )

    if w.per_host is None:
        return head + one(_name(w.name), w.etc) + "{{- end }}\n"
    # helm-toolkit's per-host daemonsets: one pinned to each listed host, with that
    # host's configuration laid over the chart's, and a default one for the others.
    hosts = _path(f"conf.overrides.{w.per_host}.hosts")
    conf = facts.conf
    assert conf is not None
    return (
        head + "{{- $names := list }}\n"
        f"{{{{- range $h := {hosts} }}}}{{{{ $names = append $names $h.name }}}}{{{{ end }}}}\n"
        f"{{{{- range $h := {hosts} }}}}\n"
        + one(
            f"{w.name}-{{{{ $h.name }}}}", f"{w.name}-{{{{ $h.name }}}}-etc", "(list $h.name)", "In"
        )
        + f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {w.name}-{{{{ $h.name }}}}-etc\n"
        "type: Opaque\ndata:\n"
        f'  {conf.file}: {{{{ include "osb.ini" (mergeOverwrite (include "{facts.name}.conf" $ '
        f'| fromJson) (index ($h.conf | default dict) "{conf.root}" | default dict)) '
        "| b64enc }}\n"
        "{{- end }}\n" + one(f"{w.name}-default", w.etc, "$names", "NotIn") + "{{- end }}\n"
    )


def _job(facts: ChartFacts, job: Job) -> str:
    out = (
        f"{{{{- if {_path('manifests.' + job.flag)} }}}}\n"
        + _ctx(facts, job.component, job.deps)
        + "\n"
        f"---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {_name(job.name)}\n"
        '  labels:\n{{ include "osb.labels" $ctx | indent 4 }}\n'
        "spec:\n  backoffLimit: 6\n  template:\n    metadata:\n      labels:\n"
        '{{ include "osb.labels" $ctx | indent 8 }}\n'
        "    spec:\n      restartPolicy: OnFailure\n"
        + _node_selector(job.label, 6)
        + "      initContainers:\n"
        '{{ include "osb.dependency_init" $ctx | indent 8 }}\n'
        "      containers:\n"
    )
    etc = facts.conf.secret if job.etc and facts.conf else None
    mounts, volumes = _etc_mount(facts.name, etc, 8)
    for i, env in enumerate(job.containers):
        suffix = f"-{i}" if len(job.containers) > 1 else ""
        out += (
            f"        - name: {_name(job.name)}{suffix}\n"
            f"          image: {{{{ {_path('images.tags.' + job.image)} | quote }}}}\n"
            "          imagePullPolicy: {{ $.Values.images.pull_policy }}\n"
            f'          command: ["/tmp/{job.component}.sh"]\n' + _env(env, 10) + mounts
        )
    return out + volumes + "{{- end }}\n"


def _service(facts: ChartFacts, s: Service) -> str:
    name = (f'{{{{ include "osb.host" (dict "root" $ "endpoint" "{s.endpoint}" '
            f'"type" "{s.host}") }}}}')  # fmt: skip
    port = (f'{{{{ include "osb.port" (dict "root" $ "endpoint" "{s.endpoint}" '
            f'"port" "{s.port}" "port_type" "{s.port_type}") }}}}')  # fmt: skip
    if s.component is not None:
        selector = (f'{{{{ include "osb.labels" (dict "root" $ "application" "{facts.app}" '
                    f'"component" "{s.component}") | indent 4 }}}}\n')  # fmt: skip
    else:
        selector = "".join(f"    {k}: {v}\n" for k, v in s.selector)
    return (
        f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n"
        f"  ports:\n    - name: {s.port.replace('_', '-')}\n      port: {port}\n"
        "  selector:\n" + selector
    )


def _secret(name: str, data: list[str]) -> str:
    return (
        f"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: Opaque\ndata:\n"
        + "".join(f"  {line}\n" for line in data)
    )


def _secrets(facts: ChartFacts) -> str:
    out = ""
    for endpoint, classes in facts.db_secrets:
        for cls in classes:
            uri = (f'{{{{ include "osb.uri" (dict "root" $ "endpoint" "{endpoint}" '
                   f'"user" "{cls}" "port" "mysql") | b64enc }}}}')  # fmt: skip
            out += _secret(_secret_ref(f"{endpoint}.{cls}"), [f"DB_CONNECTION: {uri}"])
    for cls in facts.mq_secrets:

        def mq_uri(port: str, cls: str = cls) -> str:
            return (f'{{{{ include "osb.uri" (dict "root" $ "endpoint" "oslo_messaging" '
                    f'"user" "{cls}" "port" "{port}") | b64enc }}}}')  # fmt: skip

        data = [f"RABBITMQ_CONNECTION: {mq_uri('http')}"]
        if facts.mq_transport_url:
            data.append(f"TRANSPORT_URL: {mq_uri('amqp')}")
        out += _secret(_secret_ref(f"oslo_messaging.{cls}"), data)
    for cls in facts.ks_secrets:
        openrc = f'{{{{ include "osb.openrc" (dict "root" $ "user" "{cls}") | indent 2 }}}}'
        out += _secret(_secret_ref(f"identity.{cls}"), []) + openrc + "\n"
    for name, keys in facts.extra_secrets:
        out += _secret(
            _name(name),
            [f"{key}: {{{{ {_path(path)} | toString | b64enc }}}}" for key, path in keys],
        )
    if facts.conf is not None:
        out += _secret(
            facts.conf.secret,
            [
                f'{facts.conf.file}: {{{{ include "osb.ini" (include "{facts.name}.conf" $ '
                "| fromJson) | b64enc }}"
            ],
        )
    return out


def _conf_template(facts: ChartFacts, conf: ConfFile) -> str:
    """``<chart>.conf``: conf.<root> with the connections it leaves empty built from
    ``endpoints``, as JSON."""
    out = f'{{{{- define "{facts.name}.conf" -}}}}\n'
    out += f"{{{{- $conf := deepCopy .Values.conf.{conf.root} -}}}}\n"
    for section, option, endpoint, user, port in conf.computed:
        out += (
            f'{{{{- if not (hasKey $conf "{section}") }}}}'
            f'{{{{ $_ := set $conf "{section}" dict }}}}{{{{ end -}}}}\n'
            f'{{{{- if empty (index $conf "{section}" "{option}") -}}}}\n'
            f'{{{{- $_ := set (index $conf "{section}") "{option}" (include "osb.uri" '
            f'(dict "root" . "endpoint" "{endpoint}" "user" "{user}" "port" "{port}")) -}}}}\n'
            "{{- end -}}\n"
        )
    return out + "{{- toJson $conf -}}\n{{- end -}}\n"


def chart_values(facts: ChartFacts) -> dict[str, Any]:
    """The chart's values.yaml."""
    values = copy.deepcopy(facts.values)
    values.setdefault("images", {})["pull_policy"] = "IfNotPresent"
    endpoints = values.setdefault("endpoints", {})
    endpoints = {"cluster_domain_suffix": "cluster.local", **endpoints}
    values["endpoints"] = endpoints
    flags = {w.flag: True for w in facts.workloads if w.flag}
    flags.update({j.flag: True for j in facts.jobs})
    values["manifests"] = {**flags, **values.get("manifests", {})}
    return values


def chart_templates(facts: ChartFacts) -> dict[str, str]:
    """The chart's template files by name."""
    services = {s.component: s for s in facts.services if s.component}
    files = {"_osb.tpl": TOOLKIT}
    if facts.conf is not None:
        files["_conf.tpl"] = _conf_template(facts, facts.conf)
    for w in facts.workloads:
        svc = services.get(w.component)
        service_name = None
        if svc is not None:
            hosts = facts.values["endpoints"][svc.endpoint]["hosts"]
            service_name = hosts.get(svc.host) or hosts["default"]
        stem = w.name.replace("{release}-", "")
        files[f"{w.kind.lower()}-{stem}.yaml"] = _workload(facts, w, service_name)
    for job in facts.jobs:
        files[f"job-{job.component}.yaml"] = _job(facts, job)
    if facts.services:
        files["services.yaml"] = "".join(_service(facts, s) for s in facts.services)
    secrets = _secrets(facts)
    if secrets:
        files["secrets.yaml"] = secrets
    return files


def write_chart(root: Path, facts: ChartFacts, version: str) -> Path:
    d = root / "charts" / facts.name
    (d / "templates").mkdir(parents=True)
    (d / "Chart.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v2", "name": facts.name, "version": version,
        "description": f"Test chart reading the value keys of the real {facts.name} chart",
    }))  # fmt: skip
    (d / "values.yaml").write_text(yaml.safe_dump(chart_values(facts), sort_keys=False))
    for name, text in chart_templates(facts).items():
        (d / "templates" / name).write_text(text)
    return d


# --- the Armada manifest and metadata.yaml --------------------------------------------


@dataclass(frozen=True)
class Version:
    """One version of the application: its charts' era and what its manifest sets."""

    app_version: str
    era: str
    #: StarlingX's image tag for its own images.
    stx_tag: str
    #: nova's conf.nova.DEFAULT.cpu_allocation_ratio.
    cpu_allocation_ratio: float


V1 = Version("1.0-1", ERA_2019, "master-centos-stable-latest", 16.0)
V2 = Version("1.0-2", ERA_CURRENT, "master-debian-stable-latest", 4.0)


def _stx_images(facts: ChartFacts, tag: str) -> dict[str, str]:
    """StarlingX's images for the OpenStack services' own images and their job helpers."""
    out = {}
    for key in facts.values.get("images", {}).get("tags", {}):
        service = next((s for s in STX_SERVICES if key.startswith(s)), None)
        if facts.name in STX_SERVICES and service == facts.name:
            out[key] = f"docker.io/starlingx/stx-{service}:{tag}"
        elif facts.name in STX_SERVICES and key in STX_HELPERS:
            out[key] = f"docker.io/starlingx/stx-heat:{tag}"
    return out


def _labels_of(values: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    def walk(node: dict[str, Any], prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for key, sub in node.items():
            path = f"{prefix}.{key}" if prefix else key
            if isinstance(sub, dict) and "node_selector_key" in sub:
                yield path, sub
            elif isinstance(sub, dict):
                yield from walk(sub, path)

    yield from walk(values.get("labels", {}), "")


#: Where StarlingX's manifest placed what the charts place elsewhere by default.
STX_PLACEMENT = {
    "neutron": {"agent.dhcp": COMPUTE, "agent.l3": COMPUTE, "agent.metadata": COMPUTE,
                "ovs": OVS},
    "openvswitch": {"ovs": OVS},
    "libvirt": {"agent.libvirt": COMPUTE},
}  # fmt: skip


def doc_values(release: Release, version: Version) -> dict[str, Any]:
    """The values of a chart document, as StarlingX's manifest set them."""
    facts = charts(version.era)[release.chart]
    labels: dict[str, Any] = {}
    for path, default in _labels_of(facts.values):
        label = STX_PLACEMENT.get(facts.name, {}).get(path, default["node_selector_key"])
        node = labels
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = {"node_selector_key": label, "node_selector_value": "enabled"}
    values: dict[str, Any] = {"labels": labels}
    images = _stx_images(facts, version.stx_tag)
    if images:
        values["images"] = {"tags": images}
    if any(w.kind != "DaemonSet" for w in facts.workloads):
        values["pod"] = {
            "affinity": {
                "anti": {"type": {"default": "requiredDuringSchedulingIgnoredDuringExecution"}}
            }
        }
    if facts.name == "ingress":
        values["pod"]["replicas"] = {"ingress": 2, "error_page": 2}
    if facts.name == "nova":
        manifests = {"job_ks_endpoints": False}
        if version.era == ERA_2019:
            manifests.update(deployment_consoleauth=False, deployment_placement=False)
        values["manifests"] = manifests
        values["conf"] = {
            "nova": {"DEFAULT": {"cpu_allocation_ratio": version.cpu_allocation_ratio}}
        }
    return values


def manifest_documents(version: Version) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    chart_version = CHART_VERSIONS[version.era]
    meta = {"schema": "metadata/Document/v1"}
    for r in RELEASES:
        group = {"release_group": r.name}
        docs.append({
            "schema": "armada/Chart/v1",
            "metadata": {**meta, "name": r.doc},
            "data": {
                "chart_name": r.chart, "release": r.doc, "namespace": r.namespace,
                "wait": {"timeout": WAIT_TIMEOUT, "labels": group},
                "test": {"enabled": False},
                "install": {"no_hooks": False},
                "upgrade": {"no_hooks": False,
                            "pre": {"delete": [{"type": "job", "labels": group}]}},
                "values": doc_values(r, version),
                "source": {
                    "type": "tar",
                    "location": f"http://172.17.0.1:8080/helm_charts/starlingx/"
                                f"{r.chart}-{chart_version}.tgz",
                    "subpath": r.chart, "reference": "master"},
                "dependencies": [],
            },
        })  # fmt: skip
    for name, (description, sequenced) in GROUPS.items():
        docs.append({
            "schema": "armada/ChartGroup/v1", "metadata": {**meta, "name": name},
            "data": {"description": description, "sequenced": sequenced,
                     "chart_group": [r.doc for r in RELEASES if r.group == name]},
        })  # fmt: skip
    docs.append({
        "schema": "armada/Manifest/v1", "metadata": {**meta, "name": "armada-manifest"},
        "data": {"release_prefix": PREFIX, "chart_groups": list(GROUPS)},
    })  # fmt: skip
    return docs


def write_sources(root: Path, version: Version) -> None:
    for facts in charts(version.era).values():
        write_chart(root, facts, CHART_VERSIONS[version.era])
    manifests = root / "manifests"
    manifests.mkdir(parents=True)
    (manifests / "manifest.yaml").write_text(
        yaml.safe_dump_all(manifest_documents(version), sort_keys=False)
    )
    (root / "metadata.yaml").write_text(yaml.safe_dump({
        "app_name": APP_NAME, "app_version": version.app_version,
        "maintain_user_overrides": True,
    }, sort_keys=False))  # fmt: skip


def build_openstack_app(helm: HelmBinary, tmp: Path, version: Version) -> Path:
    """The bundle of ``version``, packaged with the real helm."""
    src = tmp / f"openstack-src-{version.app_version}"
    write_sources(src, version)
    return build_bundle(helm, src, tmp / f"openstack-out-{version.app_version}")


# --- what a version deploys, for the checks --------------------------------------------


def merged_values(release: Release, version: Version) -> dict[str, Any]:
    """values.yaml under the document's values (no system or user overrides)."""

    def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(base)
        for key, value in top.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out

    facts = charts(version.era)[release.chart]
    return merge(chart_values(facts), doc_values(release, version))


def _at(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for key in dotted.split("."):
        node = node[key]
    return node


@dataclass(frozen=True)
class Deployed:
    """A workload a version deploys, and the label the application places it on."""

    release: Release
    workload: Workload
    name: str
    label: tuple[str, str]


def deployed_workloads(version: Version) -> list[Deployed]:
    out = []
    for r in RELEASES:
        facts = charts(version.era)[r.chart]
        values = merged_values(r, version)
        for w in facts.workloads:
            if w.flag and not values["manifests"].get(w.flag):
                continue
            sel = _at(values, f"labels.{w.label}")
            name = w.name.replace("{release}", r.name)
            out.append(Deployed(r, w, name, (sel["node_selector_key"], sel["node_selector_value"])))
    return out


def deployed_jobs(version: Version) -> list[tuple[Release, str, tuple[str, str]]]:
    """(release, Job name, the label placing it) of every job a version deploys."""
    out = []
    for r in RELEASES:
        facts = charts(version.era)[r.chart]
        values = merged_values(r, version)
        for job in facts.jobs:
            if not values["manifests"].get(job.flag):
                continue
            sel = _at(values, f"labels.{job.label}")
            out.append(
                (
                    r,
                    job.name.replace("{release}", r.name),
                    (sel["node_selector_key"], sel["node_selector_value"]),
                )
            )
    return out
