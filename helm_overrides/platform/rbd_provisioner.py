"""rbd-provisioner: the storage class that provisions Kubernetes volumes as Ceph RBD images."""

from __future__ import annotations

from typing import Any

from helm_overrides.platform.ceph import (
    CRUSH_RULE,
    NAMESPACE,
    POOL,
    POOL_USER,
    USER_NAMESPACES,
    USER_SECRET_NAME,
    ceph_of,
    platform_replicas,
)
from helm_overrides.plugin import ChartPlugin
from helm_overrides.snapshot import ChartInput, ModelSnapshot

STORAGE_CLASS = "general"


class RbdProvisionerPlugin(ChartPlugin):
    chart = "rbd-provisioner"
    namespaces = (NAMESPACE,)

    def compute(self, snap: ModelSnapshot, chart: ChartInput) -> dict[str, Any]:
        ceph = ceph_of(snap)
        return {
            "global": {
                "replicas": platform_replicas(snap),
                "defaultStorageClass": STORAGE_CLASS,
            },
            # The provisioner creates images as client.kube too: its caps cover that pool,
            # and the admin key stays with the conductor.
            "classdefaults": {
                "monitors": list(ceph.monitors),
                "adminId": POOL_USER,
                "adminSecretName": USER_SECRET_NAME,
            },
            "classes": [
                {
                    "name": STORAGE_CLASS,
                    "pool_name": POOL,
                    "replication": ceph.replication,
                    "crush_rule_name": CRUSH_RULE,
                    "chunk_size": 64,
                    "userId": POOL_USER,
                    "userSecretName": USER_SECRET_NAME,
                    "additionalNamespaces": list(USER_NAMESPACES),
                }
            ],
        }
