"""What a new host needs to join the cluster, computed the way kubeadm computes it.

- ``ca_cert_hash``: the ``--discovery-token-ca-cert-hash`` pin of the cluster CA;
- ``cluster_join_facts``: the API endpoint and CA, from the ``cluster-info`` ConfigMap that
  kubeadm's bootstrap-token phase publishes in ``kube-public`` (or, when that ConfigMap
  does not exist, from the conductor's own kubeconfig);
- ``create_bootstrap_token`` / ``delete_expired_tokens``: bootstrap tokens stored as
  ``bootstrap.kubernetes.io/token`` Secrets in ``kube-system``, as ``kubeadm token create``
  stores them.

A token's secret half is a credential: it is returned to the caller and never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from cryptography import x509
from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from sysinv_common.errors import InvalidInput, KubeOperationFailed
from sysinv_conductor.kube.client import describe_api_error

LOG = logging.getLogger(__name__)

REQUEST_TIMEOUT = 10.0

CLUSTER_INFO_NAMESPACE = "kube-public"
CLUSTER_INFO_NAME = "cluster-info"
TOKEN_NAMESPACE = "kube-system"
TOKEN_SECRET_PREFIX = "bootstrap-token-"
TOKEN_SECRET_TYPE = "bootstrap.kubernetes.io/token"
#: The group ``kubeadm token create`` gives node-join tokens; kubeadm's RBAC lets it post CSRs.
NODE_BOOTSTRAP_GROUP = "system:bootstrappers:kubeadm:default-node-token"

#: Bootstrap token alphabet and lengths (k8s.io/cluster-bootstrap/token/api).
_TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_TOKEN_ID_LEN = 6
_TOKEN_SECRET_LEN = 16
#: An id collision (36**6 ids) is unlikely but possible: draw again a few times.
_CREATE_ATTEMPTS = 3


@dataclass(frozen=True)
class JoinFacts:
    api_endpoint: str  # "host:port", IPv6 hosts in brackets, as in `kubeadm join <endpoint>`
    ca_pem: bytes
    ca_cert_hash: str  # "sha256:<hex>"


# -- CA pin ------------------------------------------------------------------------------


def _der_element(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of element) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _raw_spki(cert: x509.Certificate) -> bytes:
    """The SubjectPublicKeyInfo bytes exactly as encoded in the certificate.

    kubeadm (pubkeypin.Hash) hashes Go's ``cert.RawSubjectPublicKeyInfo``: the bytes as
    they are in the certificate, not a re-encoding of the key. cryptography exposes only
    the TBSCertificate, so walk it: [0] version (optional), serialNumber, signature,
    issuer, validity, subject, then subjectPublicKeyInfo.
    """
    tbs = cert.tbs_certificate_bytes
    tag, pos, end = _der_element(tbs, 0)
    if tag != 0x30:
        raise ValueError("TBSCertificate is not a SEQUENCE")
    tag, _, nxt = _der_element(tbs, pos)
    if tag == 0xA0:  # explicit version
        pos = nxt
    for _ in range(5):  # serialNumber, signature, issuer, validity, subject
        _, _, pos = _der_element(tbs, pos)
    tag, _, spki_end = _der_element(tbs, pos)
    if tag != 0x30 or spki_end > end:
        raise ValueError("SubjectPublicKeyInfo not found")
    return tbs[pos:spki_end]


def ca_cert_hash(ca_pem: bytes) -> str:
    """``sha256:<hex>`` of the (first) CA certificate's DER SubjectPublicKeyInfo."""
    try:
        cert = x509.load_pem_x509_certificate(ca_pem)
        spki = _raw_spki(cert)
    except ValueError as exc:
        raise InvalidInput(f"not a PEM X.509 CA certificate: {exc}") from None
    return "sha256:" + hashlib.sha256(spki).hexdigest()


# -- endpoint and CA ---------------------------------------------------------------------


def _endpoint(server: str) -> str:
    """``https://host[:port]/...`` as ``host:port``; the port defaults to 443 like kubectl's."""
    parts = urlsplit(server)
    host = parts.hostname
    if not host:
        raise KubeOperationFailed(f"Kubernetes server URL {server!r} names no host")
    try:
        port = parts.port or 443
    except ValueError:
        raise KubeOperationFailed(f"Kubernetes server URL {server!r} has a bad port") from None
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _decode_ca_data(data: str, where: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise KubeOperationFailed(f"certificate-authority-data of {where} is not base64") from None


def _facts(server: str, ca_pem: bytes, where: str) -> JoinFacts:
    try:
        pin = ca_cert_hash(ca_pem)
    except InvalidInput as exc:
        raise KubeOperationFailed(f"the CA of {where}: {exc.message}") from None
    return JoinFacts(api_endpoint=_endpoint(server), ca_pem=ca_pem, ca_cert_hash=pin)


def _from_cluster_info(kubeconfig_text: str) -> JoinFacts:
    where = f"ConfigMap {CLUSTER_INFO_NAMESPACE}/{CLUSTER_INFO_NAME}"
    try:
        doc = yaml.safe_load(kubeconfig_text)
        # kubeadm writes exactly one (unnamed) cluster and no context.
        cluster = doc["clusters"][0]["cluster"]
        server = cluster["server"]
        ca_data = cluster["certificate-authority-data"]
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        raise KubeOperationFailed(
            f"{where} holds no kubeconfig with a server and certificate-authority-data"
        ) from None
    return _facts(server, _decode_ca_data(ca_data, where), where)


def _from_kubeconfig(path: str) -> JoinFacts:
    where = f"kubeconfig {path}"
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise KubeOperationFailed(f"cannot read {where}: {exc}") from None
    try:
        clusters = {c["name"]: c["cluster"] for c in doc.get("clusters") or []}
        contexts = {c["name"]: c["context"] for c in doc.get("contexts") or []}
        current = doc.get("current-context")
        if current:
            cluster = clusters[contexts[current]["cluster"]]
        elif len(clusters) == 1:
            cluster = next(iter(clusters.values()))
        else:
            raise KeyError("current-context")
        server = cluster["server"]
    except (KeyError, TypeError, AttributeError):
        raise KubeOperationFailed(f"{where} names no current cluster with a server") from None
    if cluster.get("certificate-authority-data"):
        ca_pem = _decode_ca_data(cluster["certificate-authority-data"], where)
    elif cluster.get("certificate-authority"):
        # Relative paths are relative to the kubeconfig file, as kubectl resolves them.
        ca_path = Path(path).parent / cluster["certificate-authority"]
        try:
            ca_pem = ca_path.read_bytes()
        except OSError as exc:
            raise KubeOperationFailed(f"cannot read the CA file of {where}: {exc}") from None
    else:
        raise KubeOperationFailed(f"{where} names no certificate authority for its cluster")
    return _facts(server, ca_pem, where)


def kubeconfig_ca(path: str) -> bytes:
    """The PEM of the CA the kubeconfig at ``path`` trusts for its current cluster: the
    cluster CA, which is also the platform CA. Raises KubeOperationFailed."""
    return _from_kubeconfig(path).ca_pem


def cluster_join_facts(api: ApiClient, fallback_kubeconfig: str | None) -> JoinFacts:
    """Endpoint, CA and CA pin a joining node should use.

    ``cluster-info`` is what ``kubeadm join`` itself discovers with a token, so it wins;
    a cluster not bootstrapped by kubeadm has none, and the conductor's own view of the
    API server is then the best answer.
    """
    core = client.CoreV1Api(api)
    try:
        cm = core.read_namespaced_config_map(
            CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as exc:
        if exc.status != 404:
            raise KubeOperationFailed(
                f"cannot read ConfigMap {CLUSTER_INFO_NAMESPACE}/{CLUSTER_INFO_NAME}: "
                f"{describe_api_error(exc)}"
            ) from None
        cm = None
    except Exception as exc:
        raise KubeOperationFailed(
            f"cannot read ConfigMap {CLUSTER_INFO_NAMESPACE}/{CLUSTER_INFO_NAME}: "
            f"{describe_api_error(exc)}"
        ) from None
    if cm is not None:
        return _from_cluster_info((cm.data or {}).get("kubeconfig") or "")
    if not fallback_kubeconfig:
        raise KubeOperationFailed(
            f"ConfigMap {CLUSTER_INFO_NAMESPACE}/{CLUSTER_INFO_NAME} does not exist "
            "and no kubeconfig is configured"
        )
    return _from_kubeconfig(fallback_kubeconfig)


# -- bootstrap tokens --------------------------------------------------------------------


def _random(length: int) -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(length))


def _rfc3339(moment: datetime) -> str:
    """UTC, whole seconds, ``Z``: Go's time.RFC3339 rendering that kubeadm writes."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now  # naive means UTC


def create_bootstrap_token(
    api: ApiClient,
    ttl: timedelta,
    description: str,
    now: datetime | None = None,
    *,
    authenticates: bool = True,
) -> str:
    """Create a node-join bootstrap token valid for ``ttl``; return ``<id>.<secret>``.

    ``authenticates=False``: a token with no usage and no group, which authenticates
    nobody; kubeadm creates one as the owner of its ``kubeadm-certs`` Secret, so that the
    Secret is garbage-collected when the token expires and is deleted.
    """
    if ttl <= timedelta(0):
        raise InvalidInput("a bootstrap token needs a positive time to live")
    expiration = _rfc3339(_utc(now) + ttl)
    core = client.CoreV1Api(api)
    for _ in range(_CREATE_ATTEMPTS):
        token_id, token_secret = _random(_TOKEN_ID_LEN), _random(_TOKEN_SECRET_LEN)
        name = TOKEN_SECRET_PREFIX + token_id
        data = {
            "token-id": token_id,
            "token-secret": token_secret,
            "expiration": expiration,
            "description": description,
        }
        if authenticates:
            data["usage-bootstrap-authentication"] = "true"
            data["usage-bootstrap-signing"] = "true"
            data["auth-extra-groups"] = NODE_BOOTSTRAP_GROUP
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": TOKEN_NAMESPACE},
            "type": TOKEN_SECRET_TYPE,
            "stringData": data,
        }
        try:
            core.create_namespaced_secret(TOKEN_NAMESPACE, body, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status == 409:
                continue  # that id is taken: draw another
            reason = describe_api_error(exc).replace(token_secret, "<redacted>")
            raise KubeOperationFailed(f"cannot create bootstrap token: {reason}") from None
        except Exception as exc:
            reason = describe_api_error(exc).replace(token_secret, "<redacted>")
            raise KubeOperationFailed(f"cannot create bootstrap token: {reason}") from None
        # The id alone is public (`kubeadm token list` shows it); the secret is not.
        LOG.info("created bootstrap token %s expiring %s", token_id, expiration)
        return f"{token_id}.{token_secret}"
    raise KubeOperationFailed("cannot create bootstrap token: no free token id, try again")


def _secret_expiration(secret: Any) -> datetime | None:
    raw = (secret.data or {}).get("expiration")
    if not raw:
        return None  # kubeadm's ttl 0: never expires
    try:
        moment = datetime.fromisoformat(base64.b64decode(raw).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        LOG.warning("bootstrap token secret %s has an unreadable expiration", secret.metadata.name)
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def delete_expired_tokens(api: ApiClient, now: datetime | None = None) -> int:
    """Delete bootstrap-token Secrets whose expiration has passed; return how many.

    This is what kube-controller-manager's tokencleaner does when enabled (it is off by
    default). Each delete is conditional on the resourceVersion that was read, so a token
    renewed meanwhile survives.
    """
    moment = _utc(now)
    core = client.CoreV1Api(api)
    try:
        listed = core.list_namespaced_secret(
            TOKEN_NAMESPACE,
            field_selector=f"type={TOKEN_SECRET_TYPE}",
            _request_timeout=REQUEST_TIMEOUT,
        )
    except Exception as exc:
        raise KubeOperationFailed(
            f"cannot list bootstrap tokens: {describe_api_error(exc)}"
        ) from None
    deleted = 0
    for secret in listed.items:
        expiration = _secret_expiration(secret)
        if expiration is None or expiration > moment:
            continue
        name = secret.metadata.name
        options = client.V1DeleteOptions(
            preconditions=client.V1Preconditions(resource_version=secret.metadata.resource_version)
        )
        try:
            core.delete_namespaced_secret(
                name, TOKEN_NAMESPACE, body=options, _request_timeout=REQUEST_TIMEOUT
            )
        except ApiException as exc:
            if exc.status in (404, 409):  # already gone, or changed since it was read
                continue
            raise KubeOperationFailed(
                f"cannot delete expired bootstrap token {name}: {describe_api_error(exc)}"
            ) from None
        except Exception as exc:
            raise KubeOperationFailed(
                f"cannot delete expired bootstrap token {name}: {describe_api_error(exc)}"
            ) from None
        LOG.info("deleted expired bootstrap token secret %s", name)
        deleted += 1
    return deleted
