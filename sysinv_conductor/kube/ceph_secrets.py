"""The Kubernetes objects that hand Ceph to pods: a Ceph client's key in a Secret per
namespace (type ``kubernetes.io/rbd``, the key under ``key``, as the in-tree RBD volume
plugin and the provisioner read it) and the ceph.conf ConfigMaps of the charts' pods. All
are labelled as sysinv's, so that a delete removes only what sysinv made.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
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


def _create_or_replace(
    what: str, create: Callable[[], object], replace: Callable[[], object]
) -> bool:
    """Create the object, or replace it when it exists; True when this call created it."""
    try:
        create()
        return True
    except ApiException as exc:
        if exc.status != 409:
            raise KubeOperationFailed(
                f"{what} cannot be created: {describe_api_error(exc)}"
            ) from None
    try:
        replace()
    except ApiException as exc:
        raise KubeOperationFailed(f"{what} cannot be replaced: {describe_api_error(exc)}") from None
    return False


def put_key_secret(
    api: Any, namespace: str, name: str, key: str, timeout: float,
    labels: dict[str, str] | None = None,
) -> bool:  # fmt: skip
    """Create or replace the Secret, with ``labels`` besides sysinv's; True when it was
    created by this call."""
    core = _core(api)
    body = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": {**LABELS, **(labels or {})}},
        "type": SECRET_TYPE,
        "data": {"key": base64.b64encode(key.encode()).decode()},
    }
    return _create_or_replace(
        f"Secret {namespace}/{name}",
        lambda: core.create_namespaced_secret(namespace, body, _request_timeout=timeout),
        lambda: core.replace_namespaced_secret(name, namespace, body, _request_timeout=timeout),
    )


def put_config_map(
    api: Any, namespace: str, name: str, data: dict[str, str], labels: dict[str, str],
    timeout: float,
) -> None:  # fmt: skip
    """Create or replace the ConfigMap, with ``labels`` besides sysinv's."""
    core = _core(api)
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, "labels": {**LABELS, **labels}},
        "data": data,
    }
    _create_or_replace(
        f"ConfigMap {namespace}/{name}",
        lambda: core.create_namespaced_config_map(namespace, body, _request_timeout=timeout),
        lambda: core.replace_namespaced_config_map(name, namespace, body, _request_timeout=timeout),
    )


def ensure_namespace(api: Any, namespace: str, timeout: float) -> None:
    """The namespace exists (one that does is left as it is)."""
    try:
        _core(api).create_namespace({"metadata": {"name": namespace}}, _request_timeout=timeout)
    except ApiException as exc:
        if exc.status != 409:
            raise KubeOperationFailed(
                f"namespace {namespace} cannot be created: {describe_api_error(exc)}"
            ) from None


def delete_labelled(api: Any, selector: str, timeout: float) -> None:
    """Delete the Secrets and ConfigMaps carrying label ``selector``, in every namespace."""
    core = _core(api)
    try:
        secrets = core.list_secret_for_all_namespaces(
            label_selector=selector, _request_timeout=timeout
        ).items
        maps = core.list_config_map_for_all_namespaces(
            label_selector=selector, _request_timeout=timeout
        ).items
    except ApiException as exc:
        raise KubeOperationFailed(
            f"the objects labelled {selector} cannot be listed: {describe_api_error(exc)}"
        ) from None
    for secret in secrets:
        delete_secrets(api, [secret.metadata.namespace], secret.metadata.name, timeout)
    for cm in maps:
        try:
            core.delete_namespaced_config_map(
                cm.metadata.name, cm.metadata.namespace, _request_timeout=timeout
            )
        except ApiException as exc:
            if exc.status != 404:
                raise KubeOperationFailed(
                    f"ConfigMap {cm.metadata.namespace}/{cm.metadata.name} cannot be deleted: "
                    f"{describe_api_error(exc)}"
                ) from None


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
