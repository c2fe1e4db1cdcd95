"""Queries on hosts and labels."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from sysinv_common.db.models import Host, Label
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


def _by_ident(stmt: Select[tuple[Host]], ident: str) -> Select[tuple[Host]]:
    host_id = host_id_of(ident)
    if host_id is not None:
        return stmt.where(Host.id == host_id)
    if is_uuid(ident):
        return stmt.where(Host.uuid == ident.lower())
    return stmt.where(Host.hostname == ident)


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
