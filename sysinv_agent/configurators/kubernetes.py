"""The Kubernetes configurator: kubelet settings, joining the cluster, and leaving it.

Files (node paths):

* ``/var/lib/kubelet/config.yaml``: the KubeletConfiguration. ``kubeadm join`` writes the
  cluster's own version of it, so only the keys sysinv owns (``cgroupDriver``) are set and
  everything else already in the file is kept;
* ``/etc/default/kubelet``: ``KUBELET_EXTRA_ARGS`` with the node IP and labels;
* ``/etc/kubernetes/join.yaml`` (0600, it holds the bootstrap token, and for a controller
  the certificate key of the uploaded control-plane certificates): the kubeadm
  JoinConfiguration, written while the node has not joined;
* ``/etc/kubernetes/init.yaml`` (0600): on the controller that creates the cluster, instead
  of ``join.yaml``, kubeadm's InitConfiguration and ClusterConfiguration, for ``kubeadm init
  --upload-certs``;
* ``/etc/kubernetes/sysinv-keystone-webhook.yaml`` (0600, controllers only): the kubeconfig
  of kube-apiserver's ``--authentication-token-webhook-config-file`` (docs/auth.md), written
  before a control-plane join starts kube-apiserver. When the configuration has none the
  file is left alone: kube-apiserver refuses to start when a file its flags name is
  missing. kube-apiserver reads it at start only, and is not restarted here.

The node counts as joined when ``/etc/kubernetes/kubelet.conf`` exists, the kubeconfig
``kubeadm join`` (or ``init``) leaves behind. With a :class:`RecordingRunner` nothing runs,
so nothing would ever write it: after a recorded join or init that "succeeded" this
configurator writes a placeholder marker itself, standing for the real command. It never
does so with a real runner, where only kubeadm's own file may say that the node joined.

The kubelet is restarted only when its files changed on a node that had already joined (a
joining node's kubelet is started by kubeadm with the new files); a failed restart is owed in
``/var/lib/sysinv-agent/kubernetes.json`` and retried by the next apply. ``leave`` runs
``kubeadm reset -f`` once and removes the marker, ``join.yaml`` and ``init.yaml``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any

import yaml

import bounded_yaml
from sysinv_agent.fs import atomic_write, matches, read_state, remove_file, write_state
from sysinv_agent.runner import RecordingRunner, failed_result, happened
from sysinv_common.nodeconfig import ConfiguratorResult, HostConfig, KubernetesConfig

if TYPE_CHECKING:
    from sysinv_agent.configurators import NodeContext

KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
KUBELET_DEFAULTS = "/etc/default/kubelet"
JOIN_CONFIG = "/etc/kubernetes/join.yaml"
AUTH_WEBHOOK_CONFIG = "/etc/kubernetes/sysinv-keystone-webhook.yaml"
#: kubeadm writes it on a successful join; its presence means "joined".
JOINED_MARKER = "/etc/kubernetes/kubelet.conf"

#: kube-apiserver's port on each controller (kubeadm's default bindPort).
API_SERVER_PORT = 6443

INIT_CONFIG = "/etc/kubernetes/init.yaml"

JOIN = ["kubeadm", "join", "--config", JOIN_CONFIG]
#: ``--upload-certs``: kubeadm stores the control-plane certificates for the second
#: controller at once (sysinv uploads them again, with a key of its own, when it joins).
INIT = ["kubeadm", "init", "--config", INIT_CONFIG, "--upload-certs"]
RESET = ["kubeadm", "reset", "-f"]
RESTART_KUBELET = ["systemctl", "restart", "kubelet"]

_RECORDED_MARKER = (
    b"# Placeholder written by sysinv-agent after a recorded (not executed) kubeadm join;\n"
    b"# on a real node kubeadm writes this kubeconfig itself.\n"
)
# Label keys may carry a DNS prefix; neither part may hold what would break the
# comma-separated --node-labels flag or the space-separated KUBELET_EXTRA_ARGS.
_LABEL_KEY = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?$")


def _node_labels(kube: KubernetesConfig) -> str | None:
    for key, value in kube.labels.items():
        if not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
            raise ValueError(f"invalid node label {key}={value!r}")
    if not kube.labels:
        return None
    return ",".join(f"{k}={kube.labels[k]}" for k in sorted(kube.labels))


def _node_ip(kube: KubernetesConfig) -> str | None:
    if kube.node_ip is None:
        return None
    return str(ipaddress.ip_address(kube.node_ip))


def kubelet_defaults(kube: KubernetesConfig) -> bytes:
    """The content of ``/etc/default/kubelet``."""
    args: list[str] = []
    node_ip = _node_ip(kube)
    labels = _node_labels(kube)
    if node_ip:
        args.append(f"--node-ip={node_ip}")
    if labels:
        args.append(f"--node-labels={labels}")
    return ("KUBELET_EXTRA_ARGS=" + " ".join(args) + "\n").encode()


def kubelet_config(kube: KubernetesConfig, existing: bytes | None) -> bytes:
    """``existing`` (kubeadm's KubeletConfiguration, if any) with sysinv's keys set.

    Raises ValueError when ``existing`` is not a YAML mapping: the file is left for an operator
    rather than replaced by a guess.
    """
    document: dict[str, Any] = {}
    if existing is not None and existing.strip():
        try:
            loaded = bounded_yaml.load(existing)
        except yaml.YAMLError as e:
            raise ValueError(f"{KUBELET_CONFIG} is not valid YAML: {e}") from e
        if not isinstance(loaded, dict):
            raise ValueError(f"{KUBELET_CONFIG} does not hold a mapping")
        document = dict(loaded)
    document["apiVersion"] = "kubelet.config.k8s.io/v1beta1"
    document["kind"] = "KubeletConfiguration"
    document["cgroupDriver"] = kube.cgroup_driver
    return bounded_yaml.dump(document, sort_keys=True, default_flow_style=False).encode()


def join_configuration(config: HostConfig) -> bytes:
    """The kubeadm (v1beta4) JoinConfiguration for ``config``; its ``join`` must be set."""
    join = config.kubernetes.join
    if join is None:
        raise ValueError("no join configuration")
    registration = _registration(config)
    document: dict[str, Any] = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "JoinConfiguration",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": join.api_endpoint,
                "token": join.token,
                "caCertHashes": list(join.ca_cert_hashes),
            }
        },
        "nodeRegistration": registration,
    }
    if join.control_plane:
        # kubeadm reads the certificate key from this file (0600), so it never appears on
        # a command line where any local user could read it from /proc.
        control: dict[str, Any] = {}
        if join.certificate_key:
            control["certificateKey"] = join.certificate_key
        if join.advertise_address:
            control["localAPIEndpoint"] = {
                "advertiseAddress": str(ipaddress.ip_address(join.advertise_address)),
                "bindPort": API_SERVER_PORT,
            }
        document["controlPlane"] = control
    return bounded_yaml.dump(document, sort_keys=True, default_flow_style=False).encode()


def _registration(config: HostConfig) -> dict[str, Any]:
    """kubeadm's nodeRegistration: the node's name, IP and labels."""
    kube = config.kubernetes
    extra_args: list[dict[str, str]] = []
    node_ip = _node_ip(kube)
    labels = _node_labels(kube)
    if node_ip:
        extra_args.append({"name": "node-ip", "value": node_ip})
    if labels:
        extra_args.append({"name": "node-labels", "value": labels})
    registration: dict[str, Any] = {"name": config.hostname}
    if extra_args:
        registration["kubeletExtraArgs"] = extra_args
    return registration


#: kube-apiserver's flags for sysinv's Keystone token webhook (docs/auth.md).
_WEBHOOK_ARGS = [
    {"name": "authentication-token-webhook-config-file", "value": AUTH_WEBHOOK_CONFIG},
    {"name": "authentication-token-webhook-version", "value": "v1"},
    {"name": "authentication-token-webhook-cache-ttl", "value": "2s"},
]


def init_configuration(config: HostConfig) -> bytes:
    """The kubeadm (v1beta4) InitConfiguration and ClusterConfiguration that create the
    cluster on the first controller; ``config.kubernetes.init`` must be set.

    The token webhook's flags and the static pod's mount of its kubeconfig are there only
    when this controller gets that kubeconfig: kube-apiserver does not start when a file
    its flags name is missing.
    """
    kube = config.kubernetes
    init = kube.init
    if init is None:
        raise ValueError("no init configuration")
    init_doc: dict[str, Any] = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "InitConfiguration",
        "localAPIEndpoint": {
            "advertiseAddress": str(ipaddress.ip_address(init.advertise_address)),
            "bindPort": API_SERVER_PORT,
        },
        "nodeRegistration": _registration(config),
    }
    api_server: dict[str, Any] = {"certSANs": list(init.cert_sans)}
    if kube.auth_webhook_kubeconfig is not None:
        api_server["extraArgs"] = list(_WEBHOOK_ARGS)
        api_server["extraVolumes"] = [{
            "name": "sysinv-keystone-webhook", "hostPath": AUTH_WEBHOOK_CONFIG,
            "mountPath": AUTH_WEBHOOK_CONFIG, "readOnly": True, "pathType": "File",
        }]  # fmt: skip
    cluster_doc: dict[str, Any] = {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": init.kubernetes_version,
        "controlPlaneEndpoint": init.control_plane_endpoint,
        "networking": {"podSubnet": init.pod_subnet, "serviceSubnet": init.service_subnet},
        "apiServer": api_server,
        "etcd": {"local": {"dataDir": init.etcd_data_dir}},
    }
    return bounded_yaml.dump_all(
        [init_doc, cluster_doc], sort_keys=True, default_flow_style=False
    ).encode()


class KubernetesConfigurator:
    name = "kubernetes"

    def apply(self, config: HostConfig, node: NodeContext) -> ConfiguratorResult:
        if config.kubernetes.leave:
            return self._leave(node)

        kube = config.kubernetes
        config_path = node.path(KUBELET_CONFIG)
        defaults_path = node.path(KUBELET_DEFAULTS)
        join_path = node.path(JOIN_CONFIG)
        marker = node.path(JOINED_MARKER)
        joined = marker.exists()
        # Computed in full before anything is written: a bad value keeps the old files.
        try:
            existing = config_path.read_bytes() if config_path.exists() else None
            kubelet_yaml = kubelet_config(kube, existing)
            defaults = kubelet_defaults(kube)
            if kube.join and kube.init:
                raise ValueError("a node either creates the cluster or joins it, not both")
            join_yaml = join_configuration(config) if kube.join and not joined else None
            init_yaml = init_configuration(config) if kube.init and not joined else None
        except ValueError as e:
            return ConfiguratorResult(name=self.name, ok=False, message=str(e))

        state_path = node.state_path(self.name)
        state = read_state(state_path)
        kubelet_differs = not matches(config_path, kubelet_yaml) or not matches(
            defaults_path, defaults
        )
        need_restart = joined and (bool(state.get("pending_restart")) or kubelet_differs)
        # Owed before the files change, so a crash in between still restarts the kubelet.
        write_state(state_path, {"pending_restart": need_restart})

        files: list[str] = []
        if atomic_write(config_path, kubelet_yaml, 0o644):
            files.append(KUBELET_CONFIG)
        if atomic_write(defaults_path, defaults, 0o644):
            files.append(KUBELET_DEFAULTS)
        webhook = kube.auth_webhook_kubeconfig
        if webhook is not None and atomic_write(
            node.path(AUTH_WEBHOOK_CONFIG), webhook.encode(), 0o600
        ):
            files.append(AUTH_WEBHOOK_CONFIG)

        commands: list[list[str]] = []
        messages: list[str] = []

        start = None
        if join_yaml is not None:
            start = (join_path, JOIN_CONFIG, join_yaml, JOIN, "joined the cluster")
        elif init_yaml is not None:
            start = (node.path(INIT_CONFIG), INIT_CONFIG, init_yaml, INIT, "created the cluster")
        if start is not None:
            path, name, content, command, done = start
            if atomic_write(path, content, 0o600):
                files.append(name)
            commands.append(command)
            outcome = node.runner.run(command, timeout=600)
            if not outcome.ok:
                return failed_result(self.name, files, commands, outcome)
            if isinstance(node.runner, RecordingRunner):
                # The recorded command stands for a real one, which would have left this file.
                atomic_write(marker, _RECORDED_MARKER, 0o600)
                files.append(JOINED_MARKER)
            messages.append(done)

        if need_restart:
            commands.append(RESTART_KUBELET)
            outcome = node.runner.run(RESTART_KUBELET)
            if not outcome.ok:
                return failed_result(self.name, files, commands, outcome)
            write_state(state_path, {"pending_restart": False})
            messages.append(happened(node.runner, "kubelet restarted",
                                     "kubelet restart recorded, not run"))  # fmt: skip

        if not messages:
            messages.append("files updated" if files else "up to date")
        return ConfiguratorResult(
            name=self.name,
            ok=True,
            changed=bool(files),
            files=files,
            commands=commands,
            message="; ".join(messages),
        )

    def _leave(self, node: NodeContext) -> ConfiguratorResult:
        marker = node.path(JOINED_MARKER)
        join_path = node.path(JOIN_CONFIG)
        # Once reset succeeded both are gone, so a repeated leave runs nothing.
        init_path = node.path(INIT_CONFIG)
        if not marker.exists() and not join_path.exists() and not init_path.exists():
            return ConfiguratorResult(name=self.name, ok=True, message="not in a cluster")
        commands = [RESET]
        outcome = node.runner.run(RESET, timeout=600)
        if not outcome.ok:
            return failed_result(self.name, [], commands, outcome)
        # The control plane kubeadm reset removed was the webhook file's only reader.
        webhook_path = node.path(AUTH_WEBHOOK_CONFIG)
        files = [
            p
            for p, path in (
                (JOINED_MARKER, marker),
                (JOIN_CONFIG, join_path),
                (INIT_CONFIG, init_path),
                (AUTH_WEBHOOK_CONFIG, webhook_path),
            )
            if remove_file(path)
        ]
        write_state(node.state_path(self.name), {"pending_restart": False})
        return ConfiguratorResult(
            name=self.name,
            ok=True,
            changed=True,
            files=files,
            commands=commands,
            message="left the cluster (kubeadm reset)",
        )
