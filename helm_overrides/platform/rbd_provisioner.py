"""rbd-provisioner: the storage class that provisions Kubernetes volumes as Ceph RBD images."""

from __future__ import annotations

from typing import Any

from helm_overrides.platform.ceph import (
    ADMIN_ID,
    ADMIN_SECRET_NAME,
    CRUSH_RULE,
    NAMESPACE,
    ceph_of,
    platform_replicas,
    replication,
)
from helm_overrides.plugin import ChartPlugin
from helm_overrides.snapshot import ChartInput, ModelSnapshot

STORAGE_CLASS = "general"
POOL = "kube-rbd"
POOL_USER = "ceph-pool-kube-rbd"


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
            "classdefaults": {
                "monitors": list(ceph.monitors),
                "adminId": ADMIN_ID,
                "adminSecretName": ADMIN_SECRET_NAME,
            },
            "classes": [
                {
                    "name": STORAGE_CLASS,
                    "pool_name": POOL,
                    "replication": replication(snap),
                    "crush_rule_name": CRUSH_RULE,
                    "chunk_size": 64,
                    "userId": POOL_USER,
                    "userSecretName": POOL_USER,
                    "additionalNamespaces": ["default", "kube-public"],
                }
            ],
        }
