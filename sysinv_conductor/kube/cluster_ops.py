"""What a deployer asks of the cluster besides helm: namespaces and pre-upgrade deletes."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from kubernetes import client
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from sysinv_common.errors import KubeOperationFailed
from sysinv_conductor.kube.client import describe_api_error

LOG = logging.getLogger(__name__)

#: Armada's upgrade.pre.delete types: the API group and the resource's name in the client's
#: ``delete_collection_namespaced_<name>`` and ``list_namespaced_<name>``.
_KINDS = {
    "job": ("batch", "job"),
    "pod": ("core", "pod"),
    "deployment": ("apps", "deployment"),
    "statefulset": ("apps", "stateful_set"),
    "daemonset": ("apps", "daemon_set"),
    "cronjob": ("batch", "cron_job"),
}
#: How long a pre-delete waits for what it deleted to be gone (Armada waits too).
DELETE_WAIT_SECONDS = 300.0


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
        """Delete the ``kind`` objects matching ``labels`` and wait until they are gone.

        Deletion is foreground (a Job goes after its pods), so the objects linger a while;
        helm must not run before: it would find a Job still there, leave it alone, and then
        wait for one that no longer exists."""
        if kind not in _KINDS:
            raise KubeOperationFailed(
                f"upgrade.pre.delete type '{kind}' is not supported "
                f"(supported: {', '.join(sorted(_KINDS))})"
            )
        group, name = _KINDS[kind]
        api = self.apis[group]
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        what = f"{kind}s {selector or '<all>'} in {namespace}"
        try:
            getattr(api, f"delete_collection_namespaced_{name}")(
                namespace,
                label_selector=selector,
                propagation_policy="Foreground",
                _request_timeout=self.timeout,
            )
            deadline = time.monotonic() + DELETE_WAIT_SECONDS
            while getattr(api, f"list_namespaced_{name}")(
                namespace, label_selector=selector, limit=1, _request_timeout=self.timeout
            ).items:
                if time.monotonic() > deadline:
                    raise KubeOperationFailed(
                        f"pre-delete: {what} still there {DELETE_WAIT_SECONDS:.0f} s after "
                        "their deletion"
                    )
                time.sleep(0.2)
        except ApiException as exc:
            raise KubeOperationFailed(f"cannot delete {what}: {describe_api_error(exc)}") from None
        LOG.info("pre-delete: %s deleted", what)
