"""Queries on hosts and labels."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, or_, select, true
from sqlalchemy.orm import Session, joinedload, selectinload

from sysinv_common.db.models import Host, Label, System
from sysinv_common.errors import InvalidInput, NotFound
from sysinv_common.states.host import Administrative

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
_ID = re.compile(r"[0-9]+", re.ASCII)
#: The largest host id: ``hosts.id`` is an Integer column, 32-bit on PostgreSQL. A larger
#: number reached the database driver, which failed on it (a 500 on either database).
MAX_HOST_ID = 2**31 - 1


def host_id_of(ident: str) -> int | None:
    """``ident`` as a host id when it is one (ASCII digits); InvalidInput past the range."""
    if not _ID.fullmatch(ident):
        return None
    digits = ident.lstrip("0")
    if len(digits) > len(str(MAX_HOST_ID)) or int(digits or "0") > MAX_HOST_ID:
        shown = ident if len(ident) <= 40 else ident[:40] + "..."
        raise InvalidInput(f"Invalid host id {shown}: host ids are at most {MAX_HOST_ID}")
    return int(digits or "0")


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


def list_hosts(session: Session) -> Sequence[Host]:
    return session.scalars(select(Host).order_by(Host.id)).all()


#: The columns a host list may be sorted by (``sort_key``): those shown as they are stored.
SORT_KEYS = (
    "id", "uuid", "hostname", "personality", "subfunctions", "administrative", "operational",
    "availability", "mgmt_mac", "mgmt_ip", "bm_ip", "bm_type", "bm_username", "boot_device",
    "rootfs_device", "install_output", "console", "hw_settle", "clock_synchronization",
    "config_target", "config_applied", "created_at", "updated_at", "last_seen_at",
)  # fmt: skip


_HOSTS = Host.__table__.c
_SYSTEM = System.__table__.c
#: A host's columns as read for an answer, with the system's uuid and software version:
#: Core rows, not ORM objects (no ORM statement either: a page of a thousand hosts is read
#: several times faster, and one host in a fraction of the time).
_HOST_ROWS = select(
    *_HOSTS,
    _SYSTEM.uuid.label("system_uuid"),
    _SYSTEM.software_version.label("system_software_version"),
    _SYSTEM.active_controller_id.label("system_active_controller_id"),
).join_from(Host.__table__, System.__table__, true())
#: One host by id, uuid or hostname: built once, the value bound at each execution.
_HOST_BY = {
    name: _HOST_ROWS.where(_HOSTS[name] == bindparam("ident"))
    for name in ("id", "uuid", "hostname")
}


def page_of_hosts(
    session: Session,
    limit: int | None = None,
    marker: str | None = None,
    sort_key: str = "id",
    sort_dir: str = "asc",
) -> tuple[Sequence[Row[Any]], bool]:
    """Up to ``limit`` hosts (all without one) sorted by ``sort_key`` then id, after the
    host whose uuid is ``marker``, and whether more follow: rows of the host's columns and
    ``system_uuid``, ``system_software_version``. NULLs sort first ascending and last
    descending on either database. InvalidInput names a bad argument."""
    if sort_key not in SORT_KEYS:
        raise InvalidInput(f"Invalid sort_key '{sort_key}': one of {', '.join(SORT_KEYS)}")
    if sort_dir not in ("asc", "desc"):
        raise InvalidInput(
            f"Invalid sort direction: {sort_dir}. Acceptable values are 'asc' or 'desc'"
        )
    if limit is not None and limit < 1:
        raise InvalidInput(f"Invalid limit {limit}: must be a positive integer")
    column = Host.__table__.c[sort_key]
    if sort_dir == "asc":
        stmt = _HOST_ROWS.order_by(column.asc().nulls_first(), _HOSTS.id.asc())
    else:
        stmt = _HOST_ROWS.order_by(column.desc().nulls_last(), _HOSTS.id.desc())
    if marker is not None:
        row = (
            session.execute(select(column, _HOSTS.id).where(_HOSTS.uuid == marker.lower())).first()
            if is_uuid(marker)
            else None
        )
        if row is None:
            raise InvalidInput(f"Invalid marker {marker}: no host has this uuid")
        stmt = stmt.where(_after(column, row[0], row[1], sort_dir == "asc"))
    if limit is not None:
        stmt = stmt.limit(limit + 1)
    hosts = session.execute(stmt).all()
    if limit is not None and len(hosts) > limit:
        return hosts[:limit], True
    return hosts, False


def _after(
    column: ColumnElement[object], value: object, host_id: int, asc: bool
) -> ColumnElement[bool]:
    """The rows after (``value``, ``host_id``) in the order of page_of_hosts."""
    if asc:  # NULL first, then values up
        if value is None:
            return or_(column.is_not(None), and_(column.is_(None), _HOSTS.id > host_id))
        return or_(column > value, and_(column == value, _HOSTS.id > host_id))
    # values down, then NULL
    if value is None:
        return and_(column.is_(None), _HOSTS.id < host_id)
    return or_(column < value, column.is_(None), and_(column == value, _HOSTS.id < host_id))


def _ident_is(ident: str) -> ColumnElement[bool]:
    """The host named by ``ident``: a numeric id, a uuid or a hostname."""
    host_id = host_id_of(ident)
    if host_id is not None:
        return Host.id == host_id
    if is_uuid(ident):
        return Host.uuid == ident.lower()
    return Host.hostname == ident


def host_row(session: Session, ident: str) -> Row[Any]:
    """A host by id, uuid or hostname as page_of_hosts reads it, in one statement."""
    host_id = host_id_of(ident)
    value: object
    if host_id is not None:
        name, value = "id", host_id
    elif is_uuid(ident):
        name, value = "uuid", ident.lower()
    else:
        name, value = "hostname", ident
    row = session.execute(_HOST_BY[name], {"ident": value}).first()
    if row is None:
        raise NotFound(f"Host not found: {ident}")
    return row


def _by_ident(stmt: Select[tuple[Host]], ident: str) -> Select[tuple[Host]]:
    return stmt.where(_ident_is(ident))


def find_host(session: Session, ident: str, *, for_update: bool = False) -> Host:
    """A host by numeric id, uuid or hostname; NotFound otherwise (InvalidInput for an id
    out of range)."""
    stmt = _by_ident(select(Host), ident)
    if for_update:
        stmt = stmt.with_for_update()
    host = session.scalars(stmt).first()
    if host is None:
        raise NotFound(f"Host not found: {ident}")
    return host


def get_host(session: Session, host_id: int, *, for_update: bool = False) -> Host:
    stmt = select(Host).where(Host.id == host_id)
    if for_update:
        stmt = stmt.with_for_update()
    host = session.scalars(stmt).first()
    if host is None:
        raise NotFound(f"Host not found: {host_id}")
    return host


def lock_host_with_labels(session: Session, ref: int | str) -> Host:
    """A host by id (an int) or by id, uuid or hostname (a str), its row locked and its
    labels loaded, in one statement; NotFound otherwise."""
    stmt = select(Host).options(joinedload(Host.labels)).with_for_update(of=Host)
    stmt = stmt.where(Host.id == ref) if isinstance(ref, int) else _by_ident(stmt, ref)
    host = session.scalars(stmt).unique().first()
    if host is None:
        raise NotFound(f"Host not found: {ref}")
    return host


def host_by_hostname(session: Session, hostname: str) -> Host | None:
    return session.scalars(select(Host).where(Host.hostname == hostname)).first()


def host_by_mac(session: Session, mac: str) -> Host | None:
    return session.scalars(select(Host).where(Host.mgmt_mac == mac)).first()


def get_label(session: Session, label_uuid: str) -> Label:
    label = session.scalars(select(Label).where(Label.uuid == label_uuid.lower())).first()
    if label is None:
        raise NotFound(f"Host label not found: {label_uuid}")
    return label


def labels_of(session: Session, host_id: int) -> Sequence[Label]:
    return session.scalars(
        select(Label).where(Label.host_id == host_id).order_by(Label.label_key)
    ).all()


def desired_labels_by_host(session: Session) -> dict[str, dict[str, str]]:
    """Every host's labels, by hostname: what the Nodes should carry."""
    hosts = session.scalars(select(Host).options(selectinload(Host.labels))).all()
    return {h.hostname: {lb.label_key: lb.label_value for lb in h.labels} for h in hosts}


def locked_hostnames(session: Session) -> set[str]:
    """The hostnames of the locked hosts: their Nodes should be cordoned."""
    return set(
        session.scalars(
            select(Host.hostname).where(Host.administrative == Administrative.LOCKED.value)
        )
    )
