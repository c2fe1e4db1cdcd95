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

from kubernetes.client.exceptions import ApiException

from helm_overrides.openstack import ceph_storage
from sysinv_common.errors import KubeOperationFailed
from sysinv_conductor.ceph import keys, pools
from sysinv_conductor.ceph.client import CephClient
from sysinv_conductor.kube import ceph_secrets
from sysinv_conductor.kube.client import core_v1, describe_api_error

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
            _ensure_namespace(kube_api, ns, timeout)
            ceph_secrets.put_key_secret(kube_api, ns, ceph_storage.secret_name(user), key, timeout)
            _label_user(kube_api, ns, ceph_storage.secret_name(user), user, timeout)
        done.append(f"Ceph user {a.entity} ({a.caps()['osd']}); its key in {', '.join(namespaces)}")
    for ns in sorted({ns for c, ns in charts if c in ceph_storage.USES}):
        _put_ceph_conf(kube_api, ns, monitors, timeout)
        done.append(f"{ns}/{ceph_storage.CONF_CONFIGMAP}: ceph.conf with the monitors")
    return done


def follow_replication(ceph: CephClient, replication: pools.Replication) -> list[str]:
    """Bring the applications' pools that exist to ``replication``; the pools changed."""
    present = set(pools.list_pools(ceph))
    changed = []
    for pool in ceph_storage.POOLS:
        if pool not in present:
            continue
        info = pools.pool_info(ceph, pool)
        if (info.size, info.min_size) != (replication.size, replication.min_size):
            pools.set_replication(ceph, pool, replication)
            changed.append(pool)
    return changed


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
    core = core_v1(kube_api)
    try:
        found = core.list_secret_for_all_namespaces(
            label_selector=USER_LABEL, _request_timeout=timeout
        ).items
    except ApiException as exc:
        raise KubeOperationFailed(
            f"the Ceph users' Secrets cannot be listed: {describe_api_error(exc)}"
        ) from None
    for secret in found:
        ceph_secrets.delete_secrets(
            kube_api, [secret.metadata.namespace], secret.metadata.name, timeout
        )
    try:
        maps = core.list_config_map_for_all_namespaces(
            label_selector=CONF_LABEL, _request_timeout=timeout
        ).items
        for cm in maps:
            core.delete_namespaced_config_map(
                cm.metadata.name, cm.metadata.namespace, _request_timeout=timeout
            )
    except ApiException as exc:
        if exc.status != 404:
            raise KubeOperationFailed(
                f"the ceph.conf ConfigMaps cannot be deleted: {describe_api_error(exc)}"
            ) from None


def _ensure_namespace(kube_api: Any, namespace: str, timeout: float) -> None:
    # The Secret goes in before helm runs, so before helm would create the namespace.
    core = core_v1(kube_api)
    body = {"metadata": {"name": namespace}}
    try:
        core.create_namespace(body, _request_timeout=timeout)
    except ApiException as exc:
        if exc.status != 409:
            raise KubeOperationFailed(
                f"namespace {namespace} cannot be created: {describe_api_error(exc)}"
            ) from None


def _label_user(kube_api: Any, namespace: str, name: str, user: str, timeout: float) -> None:
    patch = {"metadata": {"labels": {USER_LABEL: user}}}
    try:
        core_v1(kube_api).patch_namespaced_secret(name, namespace, patch, _request_timeout=timeout)
    except ApiException as exc:
        raise KubeOperationFailed(
            f"Secret {namespace}/{name} cannot be labelled: {describe_api_error(exc)}"
        ) from None


def _put_ceph_conf(kube_api: Any, namespace: str, monitors: Sequence[str], timeout: float) -> None:
    """The ceph.conf the charts' pods read (their ``ceph_client.configmap``): the monitors
    only; the keys come from the users' Secrets."""
    name = ceph_storage.CONF_CONFIGMAP
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {**ceph_secrets.LABELS, CONF_LABEL: "true"}},
        "data": {"ceph.conf": ceph_storage.ceph_conf(monitors)},
    }  # fmt: skip
    core = core_v1(kube_api)
    try:
        core.create_namespaced_config_map(namespace, body, _request_timeout=timeout)
        return
    except ApiException as exc:
        if exc.status != 409:
            raise KubeOperationFailed(
                f"ConfigMap {namespace}/{name} cannot be created: {describe_api_error(exc)}"
            ) from None
    try:
        core.replace_namespaced_config_map(name, namespace, body, _request_timeout=timeout)
    except ApiException as exc:
        raise KubeOperationFailed(
            f"ConfigMap {namespace}/{name} cannot be replaced: {describe_api_error(exc)}"
        ) from None
