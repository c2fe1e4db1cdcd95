"""What a deployer asks of the cluster besides helm: namespaces and pre-upgrade deletes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from sysinv_common.errors import KubeOperationFailed
from sysinv_conductor.kube.client import describe_api_error

LOG = logging.getLogger(__name__)

#: Armada's upgrade.pre.delete types and how to delete each, by label selector.
_DELETERS = {
    "job": ("batch", "delete_collection_namespaced_job"),
    "pod": ("core", "delete_collection_namespaced_pod"),
    "deployment": ("apps", "delete_collection_namespaced_deployment"),
    "statefulset": ("apps", "delete_collection_namespaced_stateful_set"),
    "daemonset": ("apps", "delete_collection_namespaced_daemon_set"),
    "cronjob": ("batch", "delete_collection_namespaced_cron_job"),
}


class KubeClusterOps:
    def __init__(self, api: ApiClient, timeout: float = 30.0) -> None:
        self.apis: dict[str, Any] = {
            "core": client.CoreV1Api(api),
            "apps": client.AppsV1Api(api),
            "batch": client.BatchV1Api(api),
        }
        self.timeout = timeout

    def ensure_namespace(self, namespace: str) -> None:
        core = self.apis["core"]
        try:
            core.create_namespace(
                {
                    "metadata": {
                        "name": namespace,
                        "labels": {"app.kubernetes.io/managed-by": "sysinv"},
                    }
                },
                _request_timeout=self.timeout,
            )
            LOG.info("created namespace %s", namespace)
        except ApiException as exc:
            if exc.status != 409:
                raise KubeOperationFailed(
                    f"cannot create namespace {namespace}: {describe_api_error(exc)}"
                ) from None

    def delete_resources(self, namespace: str, kind: str, labels: Mapping[str, str]) -> None:
        if kind not in _DELETERS:
            raise KubeOperationFailed(
                f"upgrade.pre.delete type '{kind}' is not supported "
                f"(supported: {', '.join(sorted(_DELETERS))})"
            )
        group, method = _DELETERS[kind]
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        try:
            getattr(self.apis[group], method)(
                namespace,
                label_selector=selector,
                propagation_policy="Foreground",
                _request_timeout=self.timeout,
            )
        except ApiException as exc:
            raise KubeOperationFailed(
                f"cannot delete {kind}s {selector} in {namespace}: {describe_api_error(exc)}"
            ) from None
        LOG.info("pre-delete: %ss matching %s in %s", kind, selector or "<all>", namespace)
