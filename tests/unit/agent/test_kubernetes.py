"""The Kubernetes configurator: kubelet files, kubeadm join and reset, kubelet restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sysinv_agent.configurators import NodeContext
from sysinv_agent.configurators.kubernetes import KubernetesConfigurator, init_configuration
from sysinv_agent.runner import CommandResult, RecordingRunner, recorded_commands
from sysinv_common.nodeconfig import HostConfig, InitConfig, JoinConfig, KubernetesConfig
from tests.unit.agent import mode, snapshot

JOIN = ["kubeadm", "join", "--config", "/etc/kubernetes/join.yaml"]
RESET = ["kubeadm", "reset", "-f"]
RESTART = ["systemctl", "restart", "kubelet"]
JOIN_CONFIG = JoinConfig(
    api_endpoint="192.168.206.2:6443",
    token="abcdef.0123456789abcdef",
    ca_cert_hashes=["sha256:" + "a" * 64],
)


def host(**kube: Any) -> HostConfig:
    kube.setdefault("node_ip", "192.168.206.10")
    kube.setdefault("labels", {"zone": "a", "role": "worker"})
    return HostConfig(target="t", hostname="worker-0", kubernetes=KubernetesConfig(**kube))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "commands.jsonl"


def node(root: Path, log: Path, fail: tuple[str, ...] = ()) -> NodeContext:
    return NodeContext(root, RecordingRunner(log, fail=fail))


def apply(config: HostConfig, root: Path, log: Path, fail: tuple[str, ...] = ()) -> Any:
    return KubernetesConfigurator().apply(config, node(root, log, fail))


def joined(root: Path) -> bool:
    return (root / "etc/kubernetes/kubelet.conf").exists()


def test_kubelet_files_on_a_node_not_joined(root: Path, log: Path) -> None:
    result = apply(host(cgroup_driver="cgroupfs"), root, log)
    assert result.ok
    kubelet = yaml.safe_load((root / "var/lib/kubelet/config.yaml").read_text())
    assert kubelet == {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "cgroupDriver": "cgroupfs",
    }
    assert (root / "etc/default/kubelet").read_text() == (
        "KUBELET_EXTRA_ARGS=--node-ip=192.168.206.10 --node-labels=role=worker,zone=a\n"
    )
    assert mode(root / "etc/default/kubelet") == 0o644
    # Not joined: no kubelet to restart, nothing to join.
    assert recorded_commands(log) == []
    assert not (root / "etc/kubernetes/join.yaml").exists()


def test_join_writes_private_join_config_and_runs_kubeadm(root: Path, log: Path) -> None:
    result = apply(host(join=JOIN_CONFIG), root, log)
    assert result.ok, result.message
    join_path = root / "etc/kubernetes/join.yaml"
    assert mode(join_path) == 0o600
    assert yaml.safe_load(join_path.read_text()) == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "JoinConfiguration",
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": "192.168.206.2:6443",
                "token": "abcdef.0123456789abcdef",
                "caCertHashes": ["sha256:" + "a" * 64],
            }
        },
        "nodeRegistration": {
            "name": "worker-0",
            "kubeletExtraArgs": [
                {"name": "node-ip", "value": "192.168.206.10"},
                {"name": "node-labels", "value": "role=worker,zone=a"},
            ],
        },
    }
    assert recorded_commands(log) == [JOIN]
    assert result.commands == [JOIN]
    # The recorded join stands for a real one: the marker kubeadm would leave is there.
    assert joined(root)
    assert mode(root / "etc/kubernetes/kubelet.conf") == 0o600


def test_control_plane_join(root: Path, log: Path) -> None:
    key = "0f" * 32
    config = JOIN_CONFIG.model_copy(
        update={"control_plane": True, "certificate_key": key, "advertise_address": "192.168.206.4"}
    )
    assert key not in repr(config)
    result = apply(host(join=config), root, log)
    assert result.ok, result.message
    join_path = root / "etc/kubernetes/join.yaml"
    assert mode(join_path) == 0o600
    document = yaml.safe_load(join_path.read_text())
    assert document["controlPlane"] == {
        "certificateKey": key,
        "localAPIEndpoint": {"advertiseAddress": "192.168.206.4", "bindPort": 6443},
    }
    # kubeadm reads the key from the file: it is on no command line.
    assert recorded_commands(log) == [JOIN]
    assert key not in result.message


def test_a_worker_join_has_no_control_plane(root: Path, log: Path) -> None:
    apply(host(join=JOIN_CONFIG), root, log)
    document = yaml.safe_load((root / "etc/kubernetes/join.yaml").read_text())
    assert "controlPlane" not in document


def test_second_apply_after_join_does_nothing(root: Path, log: Path) -> None:
    config = host(join=JOIN_CONFIG)
    apply(config, root, log)
    before, commands = snapshot(root), recorded_commands(log)
    result = apply(config, root, log)
    assert result.ok and not result.changed and result.commands == []
    assert snapshot(root) == before
    assert recorded_commands(log) == commands


def test_kubelet_change_restarts_only_a_joined_node(root: Path, log: Path) -> None:
    apply(host(), root, log)
    apply(host(labels={"zone": "b"}), root, log)
    assert recorded_commands(log) == []

    apply(host(join=JOIN_CONFIG), root, log)
    log.unlink()
    result = apply(host(labels={"zone": "c"}), root, log)
    assert result.ok
    assert result.files == ["/etc/default/kubelet"]
    assert recorded_commands(log) == [RESTART]


def test_failed_join_is_reported_and_retried(root: Path, log: Path) -> None:
    config = host(join=JOIN_CONFIG)
    failed = apply(config, root, log, fail=("kubeadm join",))
    assert failed.ok is False
    assert "recorded failure" in failed.message and "kubeadm join" in failed.message
    assert not joined(root)
    assert (root / "etc/kubernetes/join.yaml").exists()

    log.unlink()
    retried = apply(config, root, log)
    assert retried.ok
    assert recorded_commands(log) == [JOIN]
    assert joined(root)


class _SucceedingRunner:
    """Stands for a real runner: commands succeed but, unlike kubeadm, write nothing."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []

    def run(self, argv: list[str], *, timeout: float = 300) -> CommandResult:
        self.commands.append(argv)
        return CommandResult(argv, 0, "", "")


def test_only_a_recorded_join_writes_the_marker(root: Path) -> None:
    runner = _SucceedingRunner()
    result = KubernetesConfigurator().apply(host(join=JOIN_CONFIG), NodeContext(root, runner))
    assert result.ok
    assert runner.commands == [JOIN]
    assert not joined(root)


def test_failed_kubelet_restart_is_retried(root: Path, log: Path) -> None:
    apply(host(join=JOIN_CONFIG), root, log)
    failed = apply(host(node_ip="192.168.206.11"), root, log, fail=("restart kubelet",))
    assert failed.ok is False and "recorded failure" in failed.message
    assert "--node-ip=192.168.206.11" in (root / "etc/default/kubelet").read_text()

    before = snapshot(root / "etc")
    log.unlink()
    retried = apply(host(node_ip="192.168.206.11"), root, log)
    assert retried.ok and retried.files == []
    assert recorded_commands(log) == [RESTART]
    assert snapshot(root / "etc") == before

    log.unlink()
    apply(host(node_ip="192.168.206.11"), root, log)
    assert recorded_commands(log) == []


def test_kubeadm_written_kubelet_settings_are_kept(root: Path, log: Path) -> None:
    kubelet = root / "var/lib/kubelet/config.yaml"
    kubelet.parent.mkdir(parents=True)
    kubelet.write_text(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "cgroupDriver: cgroupfs\nclusterDNS:\n- 10.96.0.10\n"
    )
    apply(host(), root, log)
    document = yaml.safe_load(kubelet.read_text())
    assert document["cgroupDriver"] == "systemd"
    assert document["clusterDNS"] == ["10.96.0.10"]


def test_bad_label_keeps_the_previous_files(root: Path, log: Path) -> None:
    apply(host(), root, log)
    before = snapshot(root)
    result = apply(host(labels={"zone": "a b", "role": "x"}, node_ip="10.0.0.1"), root, log)
    assert result.ok is False
    assert "invalid node label" in result.message
    assert snapshot(root) == before


def test_leave_resets_once(root: Path, log: Path) -> None:
    apply(host(join=JOIN_CONFIG), root, log)
    log.unlink()
    result = apply(host(leave=True), root, log)
    assert result.ok
    assert recorded_commands(log) == [RESET]
    assert not joined(root)
    assert not (root / "etc/kubernetes/join.yaml").exists()

    again = apply(host(leave=True), root, log)
    assert again.ok and again.commands == []
    assert recorded_commands(log) == [RESET]


def test_failed_leave_keeps_the_node_joined_and_retries(root: Path, log: Path) -> None:
    apply(host(join=JOIN_CONFIG), root, log)
    failed = apply(host(leave=True), root, log, fail=("kubeadm reset",))
    assert failed.ok is False and "recorded failure" in failed.message
    assert joined(root)
    log.unlink()
    assert apply(host(leave=True), root, log).ok
    assert recorded_commands(log) == [RESET]
    assert not joined(root)


WEBHOOK = "etc/kubernetes/sysinv-keystone-webhook.yaml"
WEBHOOK_KUBECONFIG = (
    "apiVersion: v1\nkind: Config\nclusters:\n- name: sysinv-keystone-webhook\n  cluster:\n"
    "    server: https://192.168.206.2:6386/webhook\n    certificate-authority-data: Q0E=\n"
)


def controller(**kube: Any) -> HostConfig:
    config = host(**kube)
    return config.model_copy(update={"hostname": "controller-0", "personality": "controller"})


def test_webhook_kubeconfig_written_private_and_once(root: Path, log: Path) -> None:
    result = apply(controller(auth_webhook_kubeconfig=WEBHOOK_KUBECONFIG), root, log)
    assert result.ok and "/" + WEBHOOK in result.files
    assert (root / WEBHOOK).read_text() == WEBHOOK_KUBECONFIG
    assert mode(root / WEBHOOK) == 0o600

    before = snapshot(root)
    again = apply(controller(auth_webhook_kubeconfig=WEBHOOK_KUBECONFIG), root, log)
    assert again.ok and not again.changed and again.files == []
    assert snapshot(root) == before


def test_webhook_kubeconfig_before_a_control_plane_join(root: Path, log: Path) -> None:
    join = JOIN_CONFIG.model_copy(update={"control_plane": True})
    result = apply(controller(join=join, auth_webhook_kubeconfig=WEBHOOK_KUBECONFIG), root, log)
    assert result.ok
    # kubeadm starts kube-apiserver, whose flags name the file: it must be there first.
    assert result.files.index("/" + WEBHOOK) < result.files.index("/etc/kubernetes/kubelet.conf")
    assert result.commands == [JOIN]


def test_a_changed_webhook_kubeconfig_is_rewritten_without_a_kubelet_restart(
    root: Path, log: Path
) -> None:
    apply(controller(join=JOIN_CONFIG, auth_webhook_kubeconfig=WEBHOOK_KUBECONFIG), root, log)
    log.unlink()
    changed = WEBHOOK_KUBECONFIG.replace("6386", "6387")
    result = apply(controller(auth_webhook_kubeconfig=changed), root, log)
    assert result.ok and result.files == ["/" + WEBHOOK]
    assert (root / WEBHOOK).read_text() == changed
    # The kubelet is unchanged; kube-apiserver reads the file when it next starts.
    assert recorded_commands(log) == []


def test_no_webhook_kubeconfig_writes_none_and_keeps_one_already_there(
    root: Path, log: Path
) -> None:
    result = apply(host(), root, log)  # a worker: the conductor sends none
    assert result.ok and not (root / WEBHOOK).exists()

    apply(controller(auth_webhook_kubeconfig=WEBHOOK_KUBECONFIG), root, log)
    # Unset later: kube-apiserver would not start without the file its flag names.
    result = apply(controller(), root, log)
    assert result.ok and (root / WEBHOOK).read_text() == WEBHOOK_KUBECONFIG


def test_leave_removes_the_webhook_kubeconfig(root: Path, log: Path) -> None:
    apply(controller(join=JOIN_CONFIG, auth_webhook_kubeconfig=WEBHOOK_KUBECONFIG), root, log)
    result = apply(controller(leave=True), root, log)
    assert result.ok and "/" + WEBHOOK in result.files
    assert not (root / WEBHOOK).exists()


INIT = ["kubeadm", "init", "--config", "/etc/kubernetes/init.yaml", "--upload-certs"]
INIT_CONFIG = InitConfig(
    kubernetes_version="v1.36.3",
    control_plane_endpoint="192.168.206.2:6443",
    advertise_address="192.168.206.3",
    cert_sans=["192.168.206.2", "192.168.206.3", "192.168.206.4"],
    pod_subnet="172.16.0.0/16",
    service_subnet="10.96.0.0/12",
)


def controller_0(**kube: Any) -> HostConfig:
    kube.setdefault("node_ip", "192.168.206.3")
    return HostConfig(
        target="t", hostname="controller-0", personality="controller",
        kubernetes=KubernetesConfig(**kube),
    )  # fmt: skip


def test_init_configuration_documents() -> None:
    init, cluster = yaml.safe_load_all(init_configuration(controller_0(init=INIT_CONFIG)))
    assert init == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "InitConfiguration",
        "localAPIEndpoint": {"advertiseAddress": "192.168.206.3", "bindPort": 6443},
        "nodeRegistration": {
            "name": "controller-0",
            "kubeletExtraArgs": [{"name": "node-ip", "value": "192.168.206.3"}],
        },
    }
    assert cluster == {
        "apiVersion": "kubeadm.k8s.io/v1beta4",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": "v1.36.3",
        "controlPlaneEndpoint": "192.168.206.2:6443",
        "networking": {"podSubnet": "172.16.0.0/16", "serviceSubnet": "10.96.0.0/12"},
        "apiServer": {"certSANs": ["192.168.206.2", "192.168.206.3", "192.168.206.4"]},
        "etcd": {"local": {"dataDir": "/var/lib/etcd"}},
    }


def test_init_configuration_with_the_keystone_webhook() -> None:
    config = controller_0(init=INIT_CONFIG, auth_webhook_kubeconfig="apiVersion: v1\n")
    _, cluster = yaml.safe_load_all(init_configuration(config))
    webhook = "/etc/kubernetes/sysinv-keystone-webhook.yaml"
    assert cluster["apiServer"]["extraArgs"] == [
        {"name": "authentication-token-webhook-config-file", "value": webhook},
        {"name": "authentication-token-webhook-version", "value": "v1"},
        {"name": "authentication-token-webhook-cache-ttl", "value": "2s"},
    ]
    assert cluster["apiServer"]["extraVolumes"] == [{
        "name": "sysinv-keystone-webhook", "hostPath": webhook, "mountPath": webhook,
        "readOnly": True, "pathType": "File",
    }]  # fmt: skip


def test_the_first_controller_writes_init_yaml_and_runs_kubeadm_init(root: Path, log: Path) -> None:
    result = apply(controller_0(init=INIT_CONFIG), root, log)
    assert result.ok, result.message
    path = root / "etc/kubernetes/init.yaml"
    assert mode(path) == 0o600
    assert path.read_bytes() == init_configuration(controller_0(init=INIT_CONFIG))
    assert recorded_commands(log) == [INIT]
    assert not (root / "etc/kubernetes/join.yaml").exists()
    assert joined(root) and "created the cluster" in result.message
    # Created once: the next apply runs nothing.
    again = apply(controller_0(init=INIT_CONFIG), root, log)
    assert again.ok and recorded_commands(log) == [INIT]
    # Leaving removes it with the rest.
    left = apply(controller_0(leave=True), root, log)
    assert left.ok and "/etc/kubernetes/init.yaml" in left.files and not path.exists()


def test_init_and_join_together_are_refused(root: Path, log: Path) -> None:
    result = apply(controller_0(init=INIT_CONFIG, join=JOIN_CONFIG), root, log)
    assert not result.ok and "not both" in result.message
    assert recorded_commands(log) == []
