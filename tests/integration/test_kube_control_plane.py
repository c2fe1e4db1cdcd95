"""The control-plane certificates a second controller downloads, on a real control plane.

Checked with kubeadm's own primitive (AES-256-GCM, nonce first), through cryptography's
AESGCM: what ``kubeadm join --control-plane --certificate-key`` does with the Secret.
"""

from __future__ import annotations

import base64
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sysinv_agent.configurators import NodeContext
from sysinv_agent.configurators.kubernetes import KubernetesConfigurator
from sysinv_agent.runner import RecordingRunner
from sysinv_common.errors import KubeOperationFailed
from sysinv_common.nodeconfig import HostConfig
from sysinv_conductor.flows import host_config
from sysinv_conductor.kube import control_plane
from sysinv_conductor.kube.client import api_client
from sysinv_conductor.kube.control_plane import CERTS_SECRET, TRANSFERRED_FILES, upload_certs
from sysinv_conductor.kube.nodes import KubeNodes
from tests.servers import secrets_seen
from tests.servers.pki import CertificateAuthority
from tests.servers.ports import free_port
from tests.stack import Stack, make_settings, running_stack

pytestmark = pytest.mark.kube

NS = "kube-system"


@pytest.fixture(scope="module")
def api(kube_cluster: Any) -> Any:
    return api_client(str(kube_cluster.kubeconfig))


@pytest.fixture
def core(api: Any) -> Iterator[Any]:
    """CoreV1 of the cluster; the Secret and the tokens that owned it go afterwards."""
    core = client.CoreV1Api(api)
    yield core
    for name in [CERTS_SECRET, *_owner_names(core)]:
        try:
            core.delete_namespaced_secret(name, NS)
        except ApiException as exc:
            assert exc.status == 404


def _owner_names(core: Any) -> list[str]:
    tokens = core.list_namespaced_secret(NS, field_selector="type=bootstrap.kubernetes.io/token")
    return [
        s.metadata.name for s in tokens.items
        if base64.b64decode((s.data or {}).get("description", "")).startswith(b"Proxy for")
    ]  # fmt: skip


@pytest.fixture
def pki(tmp_path: Path, kube_cluster: Any) -> Path:
    """A kubeadm PKI directory: the test cluster's CA and service-account keys, and a
    front-proxy CA and an etcd CA of their own."""
    pki = tmp_path / "pki"
    pki.mkdir()
    for name in ("ca.crt", "ca.key", "sa.key", "sa.pub"):
        shutil.copy(Path(kube_cluster.pki) / name, pki / name)
    front = tmp_path / "front"
    front.mkdir()
    CertificateAuthority(front)
    (front / "ca.crt").rename(pki / "front-proxy-ca.crt")
    (front / "ca.key").rename(pki / "front-proxy-ca.key")
    (pki / "etcd").mkdir()
    CertificateAuthority(pki / "etcd")
    return pki


def _open(sealed: bytes, key_hex: str) -> bytes:
    """kubeadm's DecryptBytes: a 12-byte nonce, then the GCM ciphertext and tag."""
    return AESGCM(bytes.fromhex(key_hex)).decrypt(sealed[:12], sealed[12:], None)


def _entries(core: Any) -> dict[str, bytes]:
    secret = core.read_namespaced_secret(CERTS_SECRET, NS)
    return {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}


def test_uploaded_certificates_decrypt_to_the_files(core: Any, api: Any, pki: Path) -> None:
    key = upload_certs(api, str(pki))
    secrets_seen.remember(key)
    assert len(bytes.fromhex(key)) == 32

    entries = _entries(core)
    assert set(entries) == {name.replace("/", "-") for name in TRANSFERRED_FILES}
    for relative in TRANSFERRED_FILES:
        sealed = entries[relative.replace("/", "-")]
        assert _open(sealed, key) == (pki / relative).read_bytes(), relative
    # Each entry has a nonce of its own, as kubeadm draws one per file.
    assert len({e[:12] for e in entries.values()}) == len(entries)

    wrong = bytes(32).hex()
    with pytest.raises(InvalidTag):
        _open(entries["ca.key"], wrong)


def test_the_secret_is_owned_by_a_short_lived_token(core: Any, api: Any, pki: Path) -> None:
    before = datetime.now(UTC)
    upload_certs(api, str(pki))
    secret = core.read_namespaced_secret(CERTS_SECRET, NS)
    [ref] = secret.metadata.owner_references
    owner = core.read_namespaced_secret(ref.name, NS)
    assert (ref.api_version, ref.kind, ref.uid) == ("v1", "Secret", owner.metadata.uid)
    assert ref.controller is True and ref.block_owner_deletion is True
    assert owner.type == "bootstrap.kubernetes.io/token"
    data = {k: base64.b64decode(v).decode() for k, v in owner.data.items()}
    # A TTL proxy only: it authenticates nobody.
    assert not [k for k in data if k.startswith("usage-") or k == "auth-extra-groups"]
    expires = datetime.fromisoformat(data["expiration"])
    assert before + timedelta(hours=2) - timedelta(seconds=5) <= expires
    assert expires <= datetime.now(UTC) + timedelta(hours=2)
    # The RBAC kubeadm creates: joining nodes may read that Secret and nothing else.
    rbac = client.RbacAuthorizationV1Api(api)
    role = rbac.read_namespaced_role("kubeadm:kubeadm-certs", NS)
    assert [(r.verbs, r.resources, r.resource_names) for r in role.rules] == [
        (["get"], ["secrets"], [CERTS_SECRET])
    ]
    binding = rbac.read_namespaced_role_binding("kubeadm:kubeadm-certs", NS)
    assert [s.name for s in binding.subjects] == ["system:bootstrappers:kubeadm:default-node-token"]

    # When the token goes (expired and cleaned), the garbage collector takes the Secret.
    core.delete_namespaced_secret(ref.name, NS)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            core.read_namespaced_secret(CERTS_SECRET, NS)
        except ApiException as exc:
            assert exc.status == 404
            return
        time.sleep(0.5)
    pytest.fail("kubeadm-certs outlived the token that owns it")


def test_a_new_upload_replaces_the_key(core: Any, api: Any, pki: Path) -> None:
    first = upload_certs(api, str(pki))
    second = upload_certs(api, str(pki))
    assert first != second
    sealed = _entries(core)["ca.crt"]
    assert _open(sealed, second) == (pki / "ca.crt").read_bytes()
    with pytest.raises(InvalidTag):
        _open(sealed, first)


def test_missing_files_upload_empty_and_no_ca_is_refused(core: Any, api: Any, pki: Path) -> None:
    shutil.rmtree(pki / "etcd")
    key = upload_certs(api, str(pki))
    entries = _entries(core)
    # kubeadm uploads an absent file as an empty entry (the joining node keeps its own).
    assert entries["etcd-ca.crt"] == b"" and entries["etcd-ca.key"] == b""
    assert _open(entries["sa.key"], key) == (pki / "sa.key").read_bytes()

    (pki / "ca.key").unlink()
    with pytest.raises(KubeOperationFailed, match="no cluster CA"):
        upload_certs(api, str(pki))


def test_encrypt_decrypt_round_trip() -> None:
    key = control_plane.new_certificate_key()
    sealed = control_plane.encrypt(b"secret bytes", key)
    assert control_plane.decrypt(sealed, key) == b"secret bytes"
    with pytest.raises(InvalidTag):
        control_plane.decrypt(sealed, control_plane.new_certificate_key())


# -- the join data a second controller gets, through the conductor ---------------------


@pytest.fixture(scope="module")
def cstack(kube_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("cstack")
    pki = tmp / "pki"
    pki.mkdir()
    for name in ("ca.crt", "ca.key", "sa.key", "sa.pub"):
        shutil.copy(Path(kube_cluster.pki) / name, pki / name)
    settings = make_settings(tmp)
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.kubernetes.pki_dir = str(pki)
    settings.kubernetes.label_audit_interval = 3600
    with running_stack(settings) as stack:
        yield stack


def _unlocked_config(stack: Stack, hostname: str, personality: str, ip: str) -> HostConfig:
    host = stack.add_host(hostname, personality, mgmt_ip=ip)
    r = stack.action(host, "unlock")
    assert r.status_code == 200, r.text
    config = host_config.current_config(stack.conductor.ctx, hostname)
    assert config is not None
    return config


def test_second_controller_gets_a_control_plane_join(
    cstack: Stack, core: Any, kube_cluster: Any, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    # No Node of that name exists: it has not joined yet.
    config = _unlocked_config(cstack, f"controller-{run}", "controller", "192.168.206.4")
    join = config.kubernetes.join
    assert join is not None and join.control_plane
    assert join.advertise_address == "192.168.206.4"
    key = join.certificate_key
    assert key is not None and key not in repr(config)
    # tests/zz_last checks that no log line of the run shows either.
    secrets_seen.remember(key, join.token)
    pki = Path(cstack.settings.kubernetes.pki_dir)
    entries = _entries(core)
    assert _open(entries["ca.key"], key) == (pki / "ca.key").read_bytes()

    # The agent writes it where kubeadm reads it.
    root = tmp_path / "node"
    result = KubernetesConfigurator().apply(
        config, NodeContext(root, RecordingRunner(tmp_path / "commands.jsonl"))
    )
    assert result.ok, result.message
    written = yaml.safe_load((root / "etc/kubernetes/join.yaml").read_text())
    assert written["controlPlane"]["certificateKey"] == key
    assert written["controlPlane"]["localAPIEndpoint"] == {
        "advertiseAddress": "192.168.206.4", "bindPort": 6443,
    }  # fmt: skip

    # Its token authenticates against the real API server as kubeadm's join token does,
    # and may read the Secret it will download.
    token = written["discovery"]["bootstrapToken"]["token"]
    token_id = token.split(".")[0]
    as_node = kube_cluster.token_client(token)
    review = client.AuthenticationV1Api(as_node).create_self_subject_review(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    )
    assert review.status.user_info.username == f"system:bootstrap:{token_id}"
    assert "system:bootstrappers:kubeadm:default-node-token" in review.status.user_info.groups
    fetched = client.CoreV1Api(as_node).read_namespaced_secret(CERTS_SECRET, NS)
    assert set(fetched.data) == set(entries)
    # ... and nothing else in kube-system.
    with pytest.raises(ApiException) as refused:
        client.CoreV1Api(as_node).read_namespaced_secret(f"bootstrap-token-{token_id}", NS)
    assert refused.value.status == 403
    # A made-up token of the same shape authenticates nobody.
    with pytest.raises(ApiException) as unknown:
        client.CoreV1Api(kube_cluster.token_client("abcdef.0123456789abcdef")).list_namespace()
    assert unknown.value.status == 401


def test_a_worker_never_gets_a_certificate_key(cstack: Stack, core: Any) -> None:
    run = uuid.uuid4().hex[:6]
    config = _unlocked_config(cstack, f"worker-{run}", "worker", "192.168.206.40")
    join = config.kubernetes.join
    assert join is not None and join.token
    assert not join.control_plane
    assert join.certificate_key is None and join.advertise_address is None


def test_has_nodes_says_no_only_when_sure(api: Any, tmp_path: Path, kube_cluster: Any) -> None:
    assert KubeNodes(api).has_nodes()
    # A cluster that cannot be asked never looks empty: nobody would create a second one.
    doc = yaml.safe_load(Path(kube_cluster.kubeconfig).read_text())
    doc["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{free_port()}"
    unreachable = tmp_path / "unreachable.kubeconfig"
    unreachable.write_text(yaml.safe_dump(doc))
    assert KubeNodes(api_client(str(unreachable)), timeout=2).has_nodes()
