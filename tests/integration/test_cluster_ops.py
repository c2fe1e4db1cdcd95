"""The deployer's cluster work on the real control plane: pre-upgrade deletes."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from kubernetes import client

from sysinv_conductor.kube.cluster_ops import KubeClusterOps

pytestmark = pytest.mark.kube


def test_a_pre_delete_returns_once_the_jobs_are_gone(kube_cluster: Any) -> None:
    api = kube_cluster.api_client()
    core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
    ns = f"pd-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": ns}})
    try:
        labels = {"release_group": "osh-demo"}
        for name in ("demo-db-sync", "demo-ks-user"):
            batch.create_namespaced_job(ns, {
                "metadata": {"name": name, "labels": labels},
                "spec": {"template": {"spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}]}}},
            })  # fmt: skip
        batch.create_namespaced_job(ns, {
            "metadata": {"name": "other", "labels": {"release_group": "osh-other"}},
            "spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}},
        })  # fmt: skip
        deadline = time.monotonic() + 60
        while len(core.list_namespaced_pod(ns).items) < 3:  # the Jobs' pods exist
            assert time.monotonic() < deadline
            time.sleep(0.2)
        KubeClusterOps(api).delete_resources(ns, "job", labels)
        # Gone, not merely marked for deletion: helm runs right after this.
        left = [j.metadata.name for j in batch.list_namespaced_job(ns).items]
        assert left == ["other"]
    finally:
        core.delete_namespace(ns)
