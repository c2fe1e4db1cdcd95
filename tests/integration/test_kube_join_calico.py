"""Join facts, bootstrap tokens and Calico resources against a real control plane."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from sysinv_common.errors import KubeOperationFailed
from sysinv_conductor.kube import calico
from sysinv_conductor.kube.calico import apply_calico_resources
from sysinv_conductor.kube.client import api_client
from sysinv_conductor.kube.join import (
    ca_cert_hash,
    cluster_join_facts,
    create_bootstrap_token,
    delete_expired_tokens,
)
from tests.servers.calico import delete_crds, install_crds

pytestmark = pytest.mark.kube

TOKEN_RE = re.compile(r"^([a-z0-9]{6})\.([a-z0-9]{16})$")
GROUP, VERSION = "crd.projectcalico.org", "v1"


@pytest.fixture(scope="module")
def api(kube_cluster: Any) -> Any:
    return api_client(str(kube_cluster.kubeconfig))


@pytest.fixture(scope="module")
def ca_pem(kube_cluster: Any) -> bytes:
    data: bytes = Path(kube_cluster.ca_file).read_bytes()
    return data


@pytest.fixture(scope="module")
def endpoint(kube_cluster: Any) -> str:
    return str(kube_cluster.server).removeprefix("https://")


# -- bootstrap tokens --------------------------------------------------------------------


@pytest.fixture
def tokens(api: Any) -> Iterator[list[str]]:
    """Tokens a test created; their Secrets are deleted afterwards."""
    created: list[str] = []
    yield created
    core = client.CoreV1Api(api)
    for token in created:
        try:
            core.delete_namespaced_secret(f"bootstrap-token-{token[:6]}", "kube-system")
        except ApiException as exc:
            if exc.status != 404:
                raise


def token_secret(api: Any, token: str) -> dict[str, str]:
    secret = client.CoreV1Api(api).read_namespaced_secret(
        f"bootstrap-token-{token[:6]}", "kube-system"
    )
    assert secret.type == "bootstrap.kubernetes.io/token"
    return {k: base64.b64decode(v).decode() for k, v in secret.data.items()}


def test_bootstrap_token_secret(api: Any, tokens: list[str]) -> None:
    ttl = timedelta(hours=2)
    before = datetime.now(UTC)
    token = create_bootstrap_token(api, ttl, "join of worker-7")
    tokens.append(token)
    match = TOKEN_RE.match(token)
    assert match, token

    data = token_secret(api, token)
    assert data["token-id"] == match[1]
    assert data["token-secret"] == match[2]
    assert data["usage-bootstrap-authentication"] == "true"
    assert data["usage-bootstrap-signing"] == "true"
    assert data["auth-extra-groups"] == "system:bootstrappers:kubeadm:default-node-token"
    assert data["description"] == "join of worker-7"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["expiration"])
    expiration = datetime.fromisoformat(data["expiration"])
    # Whole seconds: the expiration may be up to 1 s before before+ttl.
    assert before + ttl - timedelta(seconds=1) <= expiration <= datetime.now(UTC) + ttl

    other = create_bootstrap_token(api, ttl, "another")
    tokens.append(other)
    assert other != token


def test_token_is_not_logged(api: Any, tokens: list[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    token = create_bootstrap_token(api, timedelta(minutes=5), "log check")
    tokens.append(token)
    assert token.split(".")[1] not in caplog.text
    assert token[:6] in caplog.text  # the public id is, so the log is not simply empty


def test_delete_expired_tokens(api: Any, tokens: list[str]) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=3)
    expired = create_bootstrap_token(api, timedelta(hours=1), "expired", now=long_ago)
    valid = create_bootstrap_token(api, timedelta(hours=1), "valid")
    tokens.extend([expired, valid])
    assert datetime.fromisoformat(token_secret(api, expired)["expiration"]) < datetime.now(UTC)

    assert delete_expired_tokens(api) >= 1
    with pytest.raises(ApiException) as err:
        token_secret(api, expired)
    assert err.value.status == 404
    assert token_secret(api, valid)["token-id"] == valid[:6]
    assert delete_expired_tokens(api) == 0


# -- CA pin and join facts ---------------------------------------------------------------


def openssl_pin(pem: bytes) -> str:
    """kubeadm's documented recipe, run with the openssl CLI."""
    pubkey = subprocess.run(
        ["openssl", "x509", "-pubkey", "-noout"], input=pem, capture_output=True, check=True
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "der"],
        input=pubkey,
        capture_output=True,
        check=True,
    ).stdout
    return "sha256:" + hashlib.sha256(der).hexdigest()


def test_ca_cert_hash_matches_independent_computations(ca_pem: bytes) -> None:
    pin = ca_cert_hash(ca_pem)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", pin)
    # Re-encoding the public key must give the bytes the certificate holds.
    spki = (
        x509.load_pem_x509_certificate(ca_pem)
        .public_key()
        .public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    )
    assert pin == "sha256:" + hashlib.sha256(spki).hexdigest()
    if shutil.which("openssl"):
        assert pin == openssl_pin(ca_pem)


@pytest.fixture
def cluster_info(api: Any) -> Iterator[Any]:
    """Publish kube-public/cluster-info as kubeadm's bootstrap-token phase does."""
    core = client.CoreV1Api(api)

    def publish(server: str, ca: bytes) -> None:
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "",
                    "cluster": {
                        "server": server,
                        "certificate-authority-data": base64.b64encode(ca).decode(),
                    },
                }
            ],
            "contexts": [],
            "users": [],
            "preferences": {},
            "current-context": "",
        }
        body = {
            "metadata": {"name": "cluster-info", "namespace": "kube-public"},
            "data": {"kubeconfig": yaml.safe_dump(kubeconfig)},
        }
        try:
            core.create_namespaced_config_map("kube-public", body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            core.replace_namespaced_config_map("cluster-info", "kube-public", body)

    yield publish
    try:
        core.delete_namespaced_config_map("cluster-info", "kube-public")
    except ApiException as exc:
        if exc.status != 404:
            raise


def test_join_facts_from_cluster_info(
    api: Any, cluster_info: Any, kube_cluster: Any, ca_pem: bytes, endpoint: str
) -> None:
    cluster_info(kube_cluster.server, ca_pem)
    facts = cluster_join_facts(api, None)
    assert facts.api_endpoint == endpoint
    assert facts.ca_pem == ca_pem
    assert facts.ca_cert_hash == openssl_pin(ca_pem)

    # The ConfigMap wins over the kubeconfig; IPv6 hosts are bracketed, as kubeadm prints.
    cluster_info("https://[fd00::10]:6443", ca_pem)
    facts = cluster_join_facts(api, str(kube_cluster.kubeconfig))
    assert facts.api_endpoint == "[fd00::10]:6443"


def test_join_facts_fallback_to_kubeconfig(
    api: Any, kube_cluster: Any, ca_pem: bytes, endpoint: str, tmp_path: Path
) -> None:
    with pytest.raises(ApiException):  # no cluster-info here: the fallback is exercised
        client.CoreV1Api(api).read_namespaced_config_map("cluster-info", "kube-public")

    # The fixture's kubeconfig names the CA by file path.
    facts = cluster_join_facts(api, str(kube_cluster.kubeconfig))
    assert (facts.api_endpoint, facts.ca_pem) == (endpoint, ca_pem)
    assert facts.ca_cert_hash == ca_cert_hash(ca_pem)

    # ... and one carrying the CA inline.
    doc = yaml.safe_load(Path(kube_cluster.kubeconfig).read_text())
    for entry in doc["clusters"]:
        entry["cluster"].pop("certificate-authority", None)
        entry["cluster"]["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    inline = tmp_path / "inline.kubeconfig"
    inline.write_text(yaml.safe_dump(doc))
    facts = cluster_join_facts(api, str(inline))
    assert (facts.api_endpoint, facts.ca_pem) == (endpoint, ca_pem)

    with pytest.raises(KubeOperationFailed, match="cluster-info"):
        cluster_join_facts(api, None)


# -- Calico ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def calico_crds(api: Any) -> Iterator[None]:
    install_crds(api)
    yield
    delete_crds(api)


def custom(api: Any, plural: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = client.CustomObjectsApi(api).get_cluster_custom_object(
        GROUP, VERSION, plural, name
    )
    return obj


def test_missing_crds_are_reported(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # A group nobody serves stands for "Calico not installed", whatever else ran before.
    monkeypatch.setattr(calico, "GROUP", "crd.absent.sysinv.example.org")
    with pytest.raises(KubeOperationFailed, match=r"^Calico CRDs are not installed: "):
        apply_calico_resources(api, "172.16.0.0/16")


def test_calico_resources_applied_idempotently(api: Any, calico_crds: None) -> None:
    report = apply_calico_resources(api, "172.16.0.0/16")
    assert report == [
        "IPPool default-ipv4-ippool: created",
        "FelixConfiguration default: created",
        "BGPConfiguration default: created",
    ]
    pool = custom(api, "ippools", "default-ipv4-ippool")
    assert pool["spec"] == {
        "cidr": "172.16.0.0/16",
        "ipipMode": "Never",
        "vxlanMode": "Always",
        "natOutgoing": True,
        "nodeSelector": "all()",
        "blockSize": 26,
    }
    felix = custom(api, "felixconfigurations", "default")
    assert felix["spec"] == {"logSeverityScreen": "Info", "reportingInterval": "0s"}
    bgp = custom(api, "bgpconfigurations", "default")
    assert bgp["spec"] == {
        "logSeverityScreen": "Info",
        "nodeToNodeMeshEnabled": True,
        "asNumber": 64512,
    }
    versions = {
        plural: custom(api, plural, name)["metadata"]["resourceVersion"]
        for plural, name in [
            ("ippools", "default-ipv4-ippool"),
            ("felixconfigurations", "default"),
            ("bgpconfigurations", "default"),
        ]
    }

    again = apply_calico_resources(api, "172.16.0.0/16")
    assert all(line.endswith(": unchanged") for line in again), again
    for plural, version in versions.items():
        name = "default-ipv4-ippool" if plural == "ippools" else "default"
        assert custom(api, plural, name)["metadata"]["resourceVersion"] == version

    # A changed pod subnet updates the pool alone, keeping fields sysinv does not own.
    objects = client.CustomObjectsApi(api)
    pool = custom(api, "ippools", "default-ipv4-ippool")
    pool["spec"]["disableBGPExport"] = True
    objects.replace_cluster_custom_object(GROUP, VERSION, "ippools", pool["metadata"]["name"], pool)
    changed = apply_calico_resources(api, "172.20.0.0/16", nat_outgoing=False)
    assert changed == [
        "IPPool default-ipv4-ippool: updated",
        "FelixConfiguration default: unchanged",
        "BGPConfiguration default: unchanged",
    ]
    pool = custom(api, "ippools", "default-ipv4-ippool")
    assert pool["spec"]["cidr"] == "172.20.0.0/16"
    assert pool["spec"]["natOutgoing"] is False
    assert pool["spec"]["disableBGPExport"] is True


def test_calico_update_conflict_is_retried(
    api: Any, calico_crds: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_calico_resources(api, "172.16.0.0/16")
    objects = client.CustomObjectsApi(api)
    real_replace = calico._Calico.replace
    interfered: list[str] = []

    def replace_after_someone_else(self: Any, want: Any, current: dict[str, Any]) -> bool:
        if not interfered:
            # Someone changes the object between our read and our write.
            fresh = custom(api, want.plural, want.name)
            fresh["spec"]["nodeSelector"] = "has(somebody)"
            objects.replace_cluster_custom_object(GROUP, VERSION, want.plural, want.name, fresh)
            interfered.append(want.name)
        result: bool = real_replace(self, want, current)
        return result

    monkeypatch.setattr(calico._Calico, "replace", replace_after_someone_else)
    report = apply_calico_resources(api, "172.18.0.0/16")
    assert report[0] == "IPPool default-ipv4-ippool: updated"
    pool = custom(api, "ippools", "default-ipv4-ippool")
    assert pool["spec"]["cidr"] == "172.18.0.0/16"
    assert pool["spec"]["nodeSelector"] == "all()"


def test_ipv6_pool(api: Any, calico_crds: None) -> None:
    report = apply_calico_resources(api, "fd00:200::/64")
    assert report[0] == "IPPool default-ipv6-ippool: created"
    pool = custom(api, "ippools", "default-ipv6-ippool")
    assert pool["spec"]["cidr"] == "fd00:200::/64"
    assert pool["spec"]["blockSize"] == 122
    client.CustomObjectsApi(api).delete_cluster_custom_object(
        GROUP, VERSION, "ippools", "default-ipv6-ippool"
    )


@pytest.mark.parametrize(
    ("plural", "spec", "field"),
    [
        ("ippools", {"cidr": "10.9.0.0/16", "blockSize": "26"}, "spec.blockSize"),
        ("ippools", {"cidr": "10.9.0.0/16", "natOutgoing": "yes"}, "spec.natOutgoing"),
        ("ippools", {"cidr": "10.9.0.0/16", "vxlanMode": "Sometimes"}, "spec.vxlanMode"),
        ("felixconfigurations", {"reportingInterval": 0}, "spec.reportingInterval"),
        ("bgpconfigurations", {"nodeToNodeMeshEnabled": "true"}, "spec.nodeToNodeMeshEnabled"),
        ("bgpconfigurations", {"asNumber": "64512"}, "spec.asNumber"),
    ],
)
def test_crds_reject_wrong_types(
    api: Any, calico_crds: None, plural: str, spec: dict[str, Any], field: str
) -> None:
    kind = {
        "ippools": "IPPool",
        "felixconfigurations": "FelixConfiguration",
        "bgpconfigurations": "BGPConfiguration",
    }[plural]
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {"name": "wrong-type"},
        "spec": spec,
    }
    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(api).create_cluster_custom_object(GROUP, VERSION, plural, body)
    assert err.value.status == 422
    assert field in err.value.body


def test_crds_prune_unknown_fields(api: Any, calico_crds: None) -> None:
    """Pruning happens only under a structural schema: proof that these are."""
    objects = client.CustomObjectsApi(api)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "IPPool",
        "metadata": {"name": "pruned"},
        "spec": {"cidr": "10.8.0.0/16", "noSuchField": 1},
    }
    created = objects.create_cluster_custom_object(GROUP, VERSION, "ippools", body)
    try:
        assert "noSuchField" not in created["spec"]
        assert created["spec"]["ipipMode"] == "Never"  # the CRD default, like Calico's
    finally:
        objects.delete_cluster_custom_object(GROUP, VERSION, "ippools", "pruned")
