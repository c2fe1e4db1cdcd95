"""What the platform's Ceph charts share: the cluster they talk to and its pools.

Where their pods run is the application's to say (the charts' ``nodeSelector``, which
StarlingX's charts set to the control plane's ``node-role.kubernetes.io/...`` label): these
plugins never set a node selector, which would be merged into the chart's and require both.
"""

from __future__ import annotations

from helm_overrides.plugin import NotConfigured
from helm_overrides.snapshot import CephView, ModelSnapshot

NAMESPACE = "kube-system"
#: The admin key's Kubernetes Secret, which the platform creates from the keyring.
ADMIN_SECRET_NAME = "ceph-admin"
ADMIN_ID = "admin"
CRUSH_RULE = "storage_tier_ruleset"


def ceph_of(snap: ModelSnapshot) -> CephView:
    if snap.ceph is None or not snap.ceph.monitors:
        raise NotConfigured(
            "no external Ceph cluster is configured (bootstrap external_ceph.monitors)"
        )
    return snap.ceph


def replication(snap: ModelSnapshot) -> int:
    # One copy per controller, at most two: a simplex system has one host to keep it on.
    return 1 if snap.is_simplex else min(2, max(1, len(snap.controllers)))


def platform_replicas(snap: ModelSnapshot) -> int:
    return 1 if snap.is_simplex else max(1, len(snap.controllers))
