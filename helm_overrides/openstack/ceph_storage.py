"""The Ceph pools and client users of the OpenStack charts, as StarlingX's stx-openstack has
them, and the overrides that point the charts at them.

glance keeps images in the pool ``images`` as ``client.images``; nova keeps ephemeral disks
in ``ephemeral`` as ``client.cinder`` (StarlingX shares that user with cinder so that one
libvirt secret opens both volumes and ephemeral disks), and reads ``images`` to clone an
image's disk copy-on-write; libvirt, which defines that secret on each compute node and
does the disks' I/O, needs the same. Each user gets ``profile rbd`` on the pools it writes
and ``profile rbd-read-only`` on the ones it only reads, nothing else.

The conductor makes the pools, the users and a Secret per user (the key under ``key``) in
the chart's namespace before the charts run, so the charts' own storage-init jobs (which
would need the admin key) are switched off. Without a configured backend the charts get
none of this and keep their non-Ceph storage.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from helm_overrides.snapshot import CephView

IMAGES_POOL = "images"
EPHEMERAL_POOL = "ephemeral"
#: Where the charts' pods find the cluster's ceph.conf, and the ConfigMap it comes from
#: (the charts' ``ceph_client.configmap``; not their ``ceph-etc`` default, which
#: openstack-helm's own ceph-client chart may own).
CEPH_CONF = "/etc/ceph/ceph.conf"
CONF_CONFIGMAP = "sysinv-ceph-etc"
#: The application tag of every pool here: they hold RBD images.
POOL_APPLICATION = "rbd"
MON_CAPS = "profile rbd"


@dataclass(frozen=True)
class CephUse:
    """What one chart needs of the cluster: its Ceph user, the pools it writes, the pools
    it only reads."""

    user: str
    pools: tuple[str, ...]
    read_only: tuple[str, ...] = ()

    @property
    def entity(self) -> str:
        return f"client.{self.user}"

    @property
    def secret_name(self) -> str:
        """The Secret holding the user's key (openstack-helm glance's ``secrets.rbd``
        default for ``client.images``)."""
        return secret_name(self.user)


def secret_name(user: str) -> str:
    return f"{user}-rbd-keyring"


GLANCE = CephUse("images", (IMAGES_POOL,))
NOVA = CephUse("cinder", (EPHEMERAL_POOL,), read_only=(IMAGES_POOL,))
#: Chart name -> what it needs.
USES: Mapping[str, CephUse] = MappingProxyType({"glance": GLANCE, "nova": NOVA, "libvirt": NOVA})
#: Charts that keep data in these pools: an applied app with one enabled keeps the
#: backend from being deleted.
CHARTS = tuple(USES)
POOLS = tuple(sorted({p for use in USES.values() for p in use.pools}))
USERS = tuple(sorted({use.user for use in USES.values()}))


@dataclass(frozen=True)
class UserAccess:
    """One Ceph user's caps over every chart of an app that uses it."""

    user: str
    pools: tuple[str, ...]
    read_only: tuple[str, ...]

    @property
    def entity(self) -> str:
        return f"client.{self.user}"

    def caps(self) -> dict[str, str]:
        osd = [f"profile rbd pool={p}" for p in self.pools]
        osd += [f"profile rbd-read-only pool={p}" for p in self.read_only]
        return {"mon": MON_CAPS, "osd": ", ".join(osd)}


def access_for(charts: Iterable[str]) -> dict[str, UserAccess]:
    """User -> access for the ``charts`` (names) that use Ceph; a pool a user writes for
    one chart is not also listed read-only for another."""
    writes: dict[str, set[str]] = {}
    reads: dict[str, set[str]] = {}
    for chart in charts:
        use = USES.get(chart)
        if use is None:
            continue
        writes.setdefault(use.user, set()).update(use.pools)
        reads.setdefault(use.user, set()).update(use.read_only)
    return {
        user: UserAccess(user, tuple(sorted(pools)), tuple(sorted(reads[user] - pools)))
        for user, pools in sorted(writes.items())
    }


def ceph_conf(monitors: Iterable[str]) -> str:
    """The ceph.conf of the ``CONF_CONFIGMAP``: where the monitors are, nothing secret."""
    return f"[global]\nmon_host = {','.join(monitors)}\n"


def libvirt_secret_uuid(ceph: CephView, user: str) -> str:
    """The libvirt secret nova-compute defines for ``user``'s key: stable for a cluster,
    so every apply (and every compute node) names the same one."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ceph:{ceph.fsid or ''}:client.{user}"))


def _set(target: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


def glance_overrides(out: dict[str, Any], ceph: CephView) -> None:
    """glance's rbd store: pool, user, replication, the monitors and the key's Secret."""
    store = "conf.glance.glance_store"
    _set(out, "storage", "rbd")
    _set(out, f"{store}.rbd_store_pool", IMAGES_POOL)
    _set(out, f"{store}.rbd_store_user", GLANCE.user)
    _set(out, f"{store}.rbd_store_replication", ceph.replication)
    _set(out, f"{store}.rbd_store_ceph_conf", CEPH_CONF)
    _set(out, "conf.ceph.monitors", list(ceph.monitors))
    _set(out, "secrets.rbd", GLANCE.secret_name)
    _set(out, "ceph_client.configmap", CONF_CONFIGMAP)
    _set(out, "manifests.job_storage_init", False)


def nova_overrides(out: dict[str, Any], ceph: CephView) -> None:
    """nova's ephemeral disks as RBD images: pool, user, its libvirt secret and Secret."""
    secret = libvirt_secret_uuid(ceph, NOVA.user)
    libvirt = "conf.nova.libvirt"
    _set(out, "conf.ceph.enabled", True)
    _set(out, "conf.ceph.cinder.user", NOVA.user)
    _set(out, "conf.ceph.cinder.secret_uuid", secret)
    _set(out, "conf.ceph.secret_uuid", secret)
    _set(out, f"{libvirt}.images_type", "rbd")
    _set(out, f"{libvirt}.images_rbd_pool", EPHEMERAL_POOL)
    _set(out, f"{libvirt}.images_rbd_ceph_conf", CEPH_CONF)
    _set(out, f"{libvirt}.rbd_user", NOVA.user)
    _set(out, f"{libvirt}.rbd_secret_uuid", secret)
    _set(out, "ceph_client.user_secret_name", NOVA.secret_name)
    _set(out, "ceph_client.configmap", CONF_CONFIGMAP)
    _set(out, "manifests.job_storage_init", False)


def libvirt_overrides(out: dict[str, Any], ceph: CephView) -> None:
    """libvirt's secret for nova's user: the same UUID as nova's, its key from the Secret."""
    _set(out, "conf.ceph.enabled", True)
    _set(out, "conf.ceph.cinder.user", NOVA.user)
    _set(out, "conf.ceph.cinder.secret_uuid", libvirt_secret_uuid(ceph, NOVA.user))
    _set(out, "ceph_client.user_secret_name", NOVA.secret_name)
    _set(out, "ceph_client.configmap", CONF_CONFIGMAP)
