"""The control-plane certificates a joining controller downloads, uploaded as kubeadm does.

``kubeadm init phase upload-certs`` (cmd/kubeadm/app/phases/copycerts) stores the cluster's
CA keys in the ``kubeadm-certs`` Secret of ``kube-system``, each file encrypted with a fresh
*certificate key* (32 random bytes, given as hex): AES-256-GCM with a random 12-byte nonce
prepended to the sealed data (kubeadm's ``cryptoutil.EncryptBytes``). ``kubeadm join
--control-plane`` with that key reads the Secret, as the bootstrap token's group may by
the ``kubeadm:kubeadm-certs`` Role, and writes the files into its own PKI directory.

The Secret is owned by a short-lived bootstrap token that authenticates nobody: when the
token expires and is deleted (kube-controller-manager's token cleaner, or
``join.delete_expired_tokens``), the garbage collector deletes the Secret with it.

There is one such Secret per cluster: each upload replaces it with a new key, so only the
key handed out last decrypts it. The key is a credential: returned to the caller, never
logged.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from sysinv_common.errors import KubeOperationFailed
from sysinv_conductor.kube.client import describe_api_error
from sysinv_conductor.kube.join import (
    NODE_BOOTSTRAP_GROUP,
    REQUEST_TIMEOUT,
    TOKEN_NAMESPACE,
    TOKEN_SECRET_PREFIX,
    create_bootstrap_token,
)

LOG = logging.getLogger(__name__)

CERTS_SECRET = "kubeadm-certs"
#: kubeadm's KubeadmCertsClusterRoleName: the Role and RoleBinding that let joining nodes
#: (the node-token group) read the Secret.
CERTS_ROLE = "kubeadm:kubeadm-certs"
#: kubeadm's DefaultCertTokenDuration: the Secret lives as long as its owner token.
CERTS_TTL = timedelta(hours=2)
CERTIFICATE_KEY_BYTES = 32
_NONCE_BYTES = 12  # Go's cipher.NewGCM standard nonce size

#: The files kubeadm transfers for a stacked (local) etcd, relative to its PKI directory.
#: A missing one is uploaded as an empty entry, as kubeadm does (it then keeps its own).
TRANSFERRED_FILES = (
    "ca.crt",
    "ca.key",
    "sa.key",
    "sa.pub",
    "front-proxy-ca.crt",
    "front-proxy-ca.key",
    "etcd/ca.crt",
    "etcd/ca.key",
)


def secret_key_name(relative: str) -> str:
    """The Secret entry of a PKI file: kubeadm replaces ``/`` by ``-`` (``etcd-ca.crt``)."""
    return relative.replace("/", "-")


def new_certificate_key() -> str:
    """A fresh key as ``kubeadm certs certificate-key`` prints it: 32 random bytes, hex."""
    return secrets.token_hex(CERTIFICATE_KEY_BYTES)


def encrypt(data: bytes, key_hex: str) -> bytes:
    """kubeadm's ``EncryptBytes``: the nonce, then AES-GCM's ciphertext and tag."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(bytes.fromhex(key_hex)).encrypt(nonce, data, None)


def decrypt(data: bytes, key_hex: str) -> bytes:
    """kubeadm's ``DecryptBytes``; raises ``cryptography.exceptions.InvalidTag`` on a wrong
    key or altered data, ValueError when ``data`` is shorter than a nonce."""
    if len(data) < _NONCE_BYTES:
        raise ValueError("size of data is less than the nonce")
    return AESGCM(bytes.fromhex(key_hex)).decrypt(data[:_NONCE_BYTES], data[_NONCE_BYTES:], None)


def encrypted_pki(pki_dir: str, key_hex: str) -> dict[str, bytes]:
    """Each transferred file of ``pki_dir`` encrypted with the key, by Secret entry name."""
    out: dict[str, bytes] = {}
    for relative in TRANSFERRED_FILES:
        try:
            content = (Path(pki_dir) / relative).read_bytes()
        except FileNotFoundError:
            out[secret_key_name(relative)] = b""
            continue
        except OSError as exc:
            raise KubeOperationFailed(f"cannot read {pki_dir}/{relative}: {exc.strerror}") from None
        out[secret_key_name(relative)] = encrypt(content, key_hex)
    if not out["ca.crt"] or not out["ca.key"]:
        raise KubeOperationFailed(f"{pki_dir} holds no cluster CA (ca.crt and ca.key)")
    return out


def _create_or_replace(create: Any, replace: Any, name: str, body: dict[str, Any]) -> None:
    try:
        create(TOKEN_NAMESPACE, body, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as exc:
        if exc.status != 409:
            raise
        replace(name, TOKEN_NAMESPACE, body, _request_timeout=REQUEST_TIMEOUT)


def upload_certs(api: ApiClient, pki_dir: str, now: datetime | None = None) -> str:
    """Upload ``pki_dir``'s control-plane certificates and keys encrypted with a fresh
    certificate key; return the key (hex). Idempotent: the Secret and its Role are created
    or replaced. Raises KubeOperationFailed."""
    key = new_certificate_key()
    data = encrypted_pki(pki_dir, key)
    core = client.CoreV1Api(api)
    rbac = client.RbacAuthorizationV1Api(api)
    try:
        token = create_bootstrap_token(
            api, CERTS_TTL, "Proxy for managing TTL for the kubeadm-certs secret", now,
            authenticates=False,
        )  # fmt: skip
        owner = core.read_namespaced_secret(
            TOKEN_SECRET_PREFIX + token.split(".", 1)[0], TOKEN_NAMESPACE,
            _request_timeout=REQUEST_TIMEOUT,
        )  # fmt: skip
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": CERTS_SECRET,
                "namespace": TOKEN_NAMESPACE,
                # metav1.NewControllerRef, as kubeadm sets it.
                "ownerReferences": [{
                    "apiVersion": "v1", "kind": "Secret", "name": owner.metadata.name,
                    "uid": owner.metadata.uid, "controller": True, "blockOwnerDeletion": True,
                }],
            },
            "type": "Opaque",
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
        }  # fmt: skip
        _create_or_replace(
            core.create_namespaced_secret, core.replace_namespaced_secret, CERTS_SECRET, secret
        )
        role = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": CERTS_ROLE, "namespace": TOKEN_NAMESPACE},
            "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"],
                       "resourceNames": [CERTS_SECRET]}],
        }  # fmt: skip
        _create_or_replace(
            rbac.create_namespaced_role, rbac.replace_namespaced_role, CERTS_ROLE, role
        )
        binding = {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": CERTS_ROLE, "namespace": TOKEN_NAMESPACE},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                        "name": CERTS_ROLE},
            "subjects": [{"kind": "Group", "name": NODE_BOOTSTRAP_GROUP}],
        }  # fmt: skip
        _create_or_replace(
            rbac.create_namespaced_role_binding, rbac.replace_namespaced_role_binding,
            CERTS_ROLE, binding,
        )  # fmt: skip
    except KubeOperationFailed:
        raise
    except Exception as exc:
        raise KubeOperationFailed(
            f"cannot upload the control-plane certificates: {describe_api_error(exc)}"
        ) from None
    LOG.info("uploaded the control-plane certificates of %s to Secret %s/%s",
             pki_dir, TOKEN_NAMESPACE, CERTS_SECRET)  # fmt: skip
    return key
