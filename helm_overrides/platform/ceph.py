"""What the platform's Ceph charts share: the cluster they talk to and its pools.

Where their pods run is the application's to say (the charts' ``nodeSelector``, which
StarlingX's charts set to the control plane's ``node-role.kubernetes.io/...`` label): these
plugins never set a node selector, which would be merged into the chart's and require both.
"""

from __future__ import annotations

from helm_overrides.plugin import NotConfigured
from helm_overrides.snapshot import CephView, ModelSnapshot

NAMESPACE = "kube-system"
CRUSH_RULE = "storage_tier_ruleset"
#: The pool the rbd-provisioner's volumes live in, and the Ceph user (``client.kube``,
#: ``profile rbd`` on that pool only) it creates and maps them as: the admin key never
#: leaves the conductor.
POOL = "kube-rbd"
POOL_USER = "kube"
#: The Kubernetes Secret holding that user's key, in ``NAMESPACE`` and in each namespace
#: whose volumes use the storage class (``USER_NAMESPACES``).
USER_SECRET_NAME = "ceph-pool-kube-rbd"
USER_NAMESPACES = ("default", "kube-public")
SECRET_NAMESPACES = (NAMESPACE, *USER_NAMESPACES)


def ceph_of(snap: ModelSnapshot) -> CephView:
    """The configured Ceph backend; ``NotConfigured`` (the charts are refused) otherwise."""
    if snap.ceph is None or not snap.ceph.monitors:
        raise NotConfigured("storage backend ceph is not configured")
    return snap.ceph


def platform_replicas(snap: ModelSnapshot) -> int:
    return 1 if snap.is_simplex else max(1, len(snap.controllers))
