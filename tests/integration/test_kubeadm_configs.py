"""The kubeadm files the agent writes, checked by the real kubeadm of the pinned version
(``kubeadm config validate``: strict decoding and kubeadm's own validation)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from sysinv_agent.configurators import NodeContext
from sysinv_agent.configurators.kubernetes import KubernetesConfigurator
from sysinv_agent.runner import RecordingRunner
from sysinv_common.conf.kubernetes import KubernetesSettings
from sysinv_common.nodeconfig import HostConfig, JoinConfig, KubernetesConfig
from sysinv_conductor.kube.init_config import init_config
from tests.servers import cache


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(cache.kube_binary("kubeadm")), "config", "validate", "--config", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def written(config: HostConfig, tmp_path: Path, name: str) -> Path:
    root = tmp_path / "root"
    result = KubernetesConfigurator().apply(
        config, NodeContext(root, RecordingRunner(tmp_path / "commands.jsonl"))
    )
    assert result.ok, result.message
    return root / "etc/kubernetes" / name


def test_the_pinned_version_is_the_tested_one() -> None:
    assert KubernetesSettings().version == cache.KUBERNETES_VERSION


@pytest.mark.parametrize("webhook", [False, True])
def test_kubeadm_accepts_the_init_configuration(tmp_path: Path, webhook: bool) -> None:
    init = init_config(
        kubernetes_version=KubernetesSettings().version, floating="192.168.206.2",
        advertise_address="192.168.206.3",
        controller_addresses=["192.168.206.3", "192.168.206.4"],
        pod_subnet="172.16.0.0/16", service_subnet="10.96.0.0/12",
    )  # fmt: skip
    config = HostConfig(
        target="t", hostname="controller-0", personality="controller",
        kubernetes=KubernetesConfig(
            node_ip="192.168.206.3", labels={"openstack-control-plane": "enabled"}, init=init,
            auth_webhook_kubeconfig="apiVersion: v1\n" if webhook else None,
        ),
    )  # fmt: skip
    path = written(config, tmp_path, "init.yaml")
    done = validate(path)
    assert done.returncode == 0, done.stdout + done.stderr

    # The check can fail: kubeadm refuses what it does not know.
    docs = list(yaml.safe_load_all(path.read_text()))
    docs[1]["networking"]["podSubnets"] = "172.16.0.0/16"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump_all(docs))
    refused = validate(bad)
    assert refused.returncode != 0 and "podSubnets" in refused.stderr


def test_kubeadm_accepts_the_control_plane_join(tmp_path: Path) -> None:
    join = JoinConfig(
        api_endpoint="192.168.206.2:6443", token="abcdef.0123456789abcdef",
        ca_cert_hashes=["sha256:" + "a" * 64], control_plane=True,
        certificate_key="0f" * 32, advertise_address="192.168.206.4",
    )  # fmt: skip
    config = HostConfig(
        target="t",
        hostname="controller-1",
        personality="controller",
        kubernetes=KubernetesConfig(node_ip="192.168.206.4", join=join),
    )
    path = written(config, tmp_path, "join.yaml")
    done = validate(path)
    assert done.returncode == 0, done.stdout + done.stderr

    # A key of the wrong length is refused by kubeadm as by the model.
    doc = yaml.safe_load(path.read_text())
    doc["controlPlane"]["certificateKey"] = "0f" * 8
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(doc))
    refused = validate(bad)
    assert refused.returncode != 0 and "certificate key size" in refused.stderr, refused.stderr
