"""The Ceph pools, users and Secrets of the applications whose charts keep data in Ceph
(the OpenStack app's glance and nova, per ``helm_overrides.openstack.ceph_storage``).

Before such an app's charts run, :func:`ensure` makes each pool the enabled charts write
(the backend's replication, PG autoscaling on, application ``rbd``), each user with exactly
the caps those charts need, and the user's key in a Secret in each namespace a chart using
it is deployed in. Every step is idempotent, so a reapply changes nothing that is right.
Removing the app leaves all of it: the pools hold the images and disks. The backend's
Ceph audit keeps the pools' replication with the storage hosts (:func:`follow_replication`)
and deleting the backend removes the users, their Secrets and the pools that hold nothing
(:func:`forget`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from helm_overrides.openstack import ceph_storage
from sysinv_conductor.ceph import keys, pools
from sysinv_conductor.ceph.client import CephClient
from sysinv_conductor.kube import ceph_secrets

LOG = logging.getLogger(__name__)

#: Labels the user Secrets carry besides ``ceph_secrets.LABELS``, so a backend delete
#: finds them in whatever namespace an app put them.
USER_LABEL = "sysinv.starlingx.io/ceph-user"
#: The label of the ceph.conf ConfigMaps, for the same reason.
CONF_LABEL = "sysinv.starlingx.io/ceph-conf"


def uses_ceph(charts: Iterable[str]) -> bool:
    return any(c in ceph_storage.USES for c in charts)


def ensure(
    ceph: CephClient,
    kube_api: Any,
    charts: Iterable[tuple[str, str]],
    replication: pools.Replication,
    monitors: Sequence[str],
    timeout: float,
) -> list[str]:
    """Make what the ``(chart, namespace)`` pairs need; one line per thing, for the app's
    events. Raises a ``SysinvError`` naming what could not be made."""
    charts = list(charts)
    access = ceph_storage.access_for(c for c, _ in charts)
    done: list[str] = []
    for pool in sorted({p for a in access.values() for p in a.pools}):
        made = pools.ensure_pool(ceph, pool, replication, ceph_storage.POOL_APPLICATION)
        done.append(
            f"Ceph pool {pool} {'created' if made else 'kept'} "
            f"(size {replication.size}, min_size {replication.min_size})"
        )
    for user, a in access.items():
        key = keys.ensure_key(ceph, a.entity, a.caps())
        namespaces = sorted(
            {ns for c, ns in charts if (u := ceph_storage.USES.get(c)) and u.user == user}
        )
        for ns in namespaces:
            # The Secret goes in before helm runs, so before helm would create the namespace.
            ceph_secrets.ensure_namespace(kube_api, ns, timeout)
            ceph_secrets.put_key_secret(
                kube_api, ns, ceph_storage.secret_name(user), key, timeout, {USER_LABEL: user}
            )
        done.append(f"Ceph user {a.entity} ({a.caps()['osd']}); its key in {', '.join(namespaces)}")
    for ns in sorted({ns for c, ns in charts if c in ceph_storage.USES}):
        # The ceph.conf the charts' pods read (their ``ceph_client.configmap``): the
        # monitors only; the keys come from the users' Secrets.
        ceph_secrets.put_config_map(
            kube_api, ns, ceph_storage.CONF_CONFIGMAP,
            {"ceph.conf": ceph_storage.ceph_conf(monitors)}, {CONF_LABEL: "true"}, timeout,
        )  # fmt: skip
        done.append(f"{ns}/{ceph_storage.CONF_CONFIGMAP}: ceph.conf with the monitors")
    return done


def follow_replication(ceph: CephClient, replication: pools.Replication) -> list[str]:
    """Bring the applications' pools that exist to ``replication``; the pools changed."""
    return pools.follow(ceph, ceph_storage.POOLS, replication)


def forget(ceph: CephClient, kube_api: Any, timeout: float) -> None:
    """With the backend going: the applications' users and their Secrets go, and each of
    their pools that holds nothing (one with images or disks stays)."""
    for user in ceph_storage.USERS:
        keys.delete_key(ceph, f"client.{user}")
    present = set(pools.list_pools(ceph))
    for pool in ceph_storage.POOLS:
        if pool in present and not pools.holds_data(ceph, pool):
            pools.delete_pool(ceph, pool)
        elif pool in present:
            LOG.info("storage backend: pool %s holds data; kept", pool)
    if kube_api is None:
        return
    ceph_secrets.delete_labelled(kube_api, USER_LABEL, timeout)
    ceph_secrets.delete_labelled(kube_api, CONF_LABEL, timeout)
