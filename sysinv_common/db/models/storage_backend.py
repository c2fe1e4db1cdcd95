"""Storage backends (StarlingX's ``storage_backend``): the Ceph cluster the platform's
volumes live on, platform-managed or external, and what sysinv made in it.

An external cluster's admin keyring is only referenced (``keyring_path``, a file on the
controllers); no key of it is ever stored here. A cluster sysinv forms from the platform's
hosts keeps its members in ``cluster`` and its cephx keys Fernet-encrypted in
``cluster_keys`` (``sysinv_conductor.flows.ceph_formation``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sysinv_common.db.base import Base, TimestampMixin, UuidMixin


class StorageBackend(UuidMixin, TimestampMixin, Base):
    __tablename__ = "storage_backends"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    #: ``ceph`` (platform-managed) or ``ceph-external``.
    backend: Mapped[str] = mapped_column(String(32), unique=True)
    #: Written only by ``sysinv_common.states.storage_backend``.
    state: Mapped[str] = mapped_column(String(32))
    #: Why the last configuration failed; None otherwise. Same owner as ``state``.
    reason: Mapped[str | None] = mapped_column(Text)
    services: Mapped[str | None] = mapped_column(String(255))
    monitors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    fsid: Mapped[str | None] = mapped_column(String(64))
    keyring_path: Mapped[str | None] = mapped_column(String(4096))
    #: Set once configured: the replication sysinv chose for its pools.
    replication: Mapped[int | None] = mapped_column(Integer)
    min_replication: Mapped[int | None] = mapped_column(Integer)
    #: A cluster formed from the platform's hosts: its monitors (name, host id, address)
    #: and OSDs (id, uuid, host id), as ``sysinv_conductor.flows.ceph_formation`` assigned
    #: them. None: an external cluster, or one the ``ceph`` settings name.
    cluster: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: That cluster's cephx keys (``mon.``, ``client.admin``, ``osd.N``): a Fernet token of
    #: their JSON, never the keys themselves.
    cluster_keys: Mapped[str | None] = mapped_column(Text, default=None)
