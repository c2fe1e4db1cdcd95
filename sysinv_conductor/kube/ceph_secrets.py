"""The Kubernetes Secrets that hold a Ceph client's key for the rbd-provisioner.

One Secret per namespace, each with the key under ``key`` (type ``kubernetes.io/rbd``, as
the in-tree RBD volume plugin and the provisioner read it), labelled as sysinv's so that a
delete removes only what sysinv made.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from kubernetes.client.exceptions import ApiException

from sysinv_common.errors import KubeOperationFailed, Unavailable
from sysinv_conductor.kube.client import core_v1, describe_api_error

SECRET_TYPE = "kubernetes.io/rbd"
LABELS = {"app.kubernetes.io/managed-by": "sysinv", "sysinv.starlingx.io/storage-backend": "ceph"}


def _core(api: Any) -> Any:
    if api is None:
        raise Unavailable("no Kubernetes cluster is configured (kubernetes.kubeconfig)")
    return core_v1(api)


def put_key_secret(api: Any, namespace: str, name: str, key: str, timeout: float) -> bool:
    """Create or replace the Secret; True when it was created by this call."""
    core = _core(api)
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": LABELS},
        "type": SECRET_TYPE,
        "data": {"key": base64.b64encode(key.encode()).decode()},
    }
    try:
        core.create_namespaced_secret(namespace, body, _request_timeout=timeout)
        return True
    except ApiException as exc:
        if exc.status != 409:
            raise KubeOperationFailed(
                f"Secret {namespace}/{name} cannot be created: {describe_api_error(exc)}"
            ) from None
    try:
        core.replace_namespaced_secret(name, namespace, body, _request_timeout=timeout)
    except ApiException as exc:
        raise KubeOperationFailed(
            f"Secret {namespace}/{name} cannot be replaced: {describe_api_error(exc)}"
        ) from None
    return False


def read_key(api: Any, namespace: str, name: str, timeout: float) -> str | None:
    """The key a Secret holds; None when there is no such Secret."""
    try:
        secret = _core(api).read_namespaced_secret(name, namespace, _request_timeout=timeout)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise KubeOperationFailed(
            f"Secret {namespace}/{name} cannot be read: {describe_api_error(exc)}"
        ) from None
    return base64.b64decode((secret.data or {}).get("key", "")).decode()


def delete_secrets(api: Any, namespaces: Iterable[str], name: str, timeout: float) -> None:
    """Delete the Secret in each namespace; one already gone is fine."""
    core = _core(api)
    for namespace in namespaces:
        try:
            core.delete_namespaced_secret(name, namespace, _request_timeout=timeout)
        except ApiException as exc:
            if exc.status != 404:
                raise KubeOperationFailed(
                    f"Secret {namespace}/{name} cannot be deleted: {describe_api_error(exc)}"
                ) from None
