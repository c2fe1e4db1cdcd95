"""Assigning and removing host labels: the database and the Node change together."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sysinv_common.db.models import Host, Label
from sysinv_common.db.queries.hosts import (
    desired_labels_by_host,
    get_host,
    get_label,
    locked_hostnames,
)
from sysinv_common.errors import Conflict, InvalidInput, NotFound, SysinvError
from sysinv_common.messaging.rpcapi import Drift, LabelAudit, LabelRow, LabelsAssigned, NodeSync
from sysinv_common.states.host import is_locked
from sysinv_common.validation import validate_labels
from sysinv_conductor.coalesce import Coalescer
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import alarms, host_config
from sysinv_conductor.flows.hosts import describe
from sysinv_conductor.kube.nodes import AuditReach

LOG = logging.getLogger(__name__)
_lock = threading.Lock()  # creating a context's batcher once


@dataclass(frozen=True)
class _Assign:
    host_id: int
    labels: dict[str, str]
    overwrite: bool


def assign(
    ctx: ConductorContext, host_id: int, labels: dict[str, Any], overwrite: bool
) -> LabelsAssigned:
    """Assign labels; answers the assigned labels and the node sync result.

    Without ``overwrite`` an existing key refuses the whole request and nothing changes.
    Concurrent assigns to one host are written in batches (:func:`_assign_batch`), each
    request answered as if it had run alone, in arrival order; hosts proceed in parallel.
    """
    wanted = validate_labels(labels)
    key = f"labels_assign:{host_id}"
    with _lock:
        writer = ctx.coalescers.get(key)
        if writer is None:
            writer = Coalescer(lambda batch: _assign_batch(ctx, batch))
            ctx.coalescers[key] = writer
    answer: LabelsAssigned = writer.submit(_Assign(host_id, wanted, overwrite))
    return answer


def _assign_batch(
    ctx: ConductorContext, batch: Sequence[_Assign]
) -> list[LabelsAssigned | Exception]:
    """One transaction and one Node patch for the batch's requests, in order.

    Batches are per host (``assign``); the loop over hosts below is general, and locks
    hosts in id order so that batches never wait on each other in a circle. A Node
    Kubernetes refuses fails its host's requests only (a savepoint per host).
    """
    answers: list[LabelsAssigned | Exception | None] = [None] * len(batch)
    by_host: dict[int, list[int]] = {}
    for i, request in enumerate(batch):
        by_host.setdefault(request.host_id, []).append(i)
    synced: list[int] = []
    with ctx.db.session() as session:
        for host_id in sorted(by_host):
            indexes = by_host[host_id]
            try:
                host = get_host(session, host_id, for_update=True)
            except SysinvError as exc:
                for i in indexes:
                    answers[i] = exc
                continue
            rows: dict[int, list[LabelRow]] = {}
            savepoint = session.begin_nested()
            try:
                for i in indexes:
                    answers[i] = _apply_one(session, host, batch[i], rows, i)
                desired = {lb.label_key: lb.label_value for lb in host.labels}
                result = ctx.kube.ensure_labels(host.hostname, desired, is_locked(host))
                host.kube_node = describe(result)
                savepoint.commit()
            except (SysinvError, IntegrityError) as exc:
                savepoint.rollback()
                error: Exception = exc
                if isinstance(exc, IntegrityError):
                    error = Conflict("Another request changed these labels at the same time; "
                                     "try again")  # fmt: skip
                for i in rows:
                    answers[i] = error
                continue
            for i, assigned in rows.items():
                answers[i] = LabelsAssigned(labels=assigned, kube_node=describe(result))
            keys = sorted({k for i in rows for k in batch[i].labels})
            LOG.info("host %s: labels %s assigned (%s)", host.hostname, keys, describe(result))
            synced.append(host_id)
    if synced:
        host_config.refresh(ctx, synced)
    return [a if a is not None else Conflict("not handled") for a in answers]


def _apply_one(
    session: Session, host: Host, request: _Assign, rows: dict[int, list[LabelRow]], i: int
) -> Conflict | None:
    """One request's labels on ``host``; its rows go to ``rows[i]``. A refused request
    (an existing key without overwrite) changes nothing and answers its Conflict."""
    existing = {lb.label_key: lb for lb in host.labels}
    if not request.overwrite:
        taken = sorted(k for k in request.labels if k in existing)
        if taken:
            return Conflict(
                f"Label {', '.join(taken)} exists for host {host.hostname}. "
                "Use overwrite option to assign a new value."
            )
    assigned: list[Label] = []
    for key, value in request.labels.items():
        label = existing.get(key)
        if label is None:
            label = Label(label_key=key, label_value=value)
            host.labels.append(label)
        else:
            label.label_value = value
        assigned.append(label)
    session.flush()
    # As they are now: a later request of the batch may change the same label.
    rows[i] = sorted(
        (LabelRow(uuid=lb.uuid, label_key=lb.label_key, label_value=lb.label_value,
                  host_uuid=host.uuid) for lb in assigned),
        key=lambda r: r.label_key,
    )  # fmt: skip
    return None


def remove(ctx: ConductorContext, label_uuid: str) -> NodeSync:
    with ctx.db.session() as session:
        try:
            label = get_label(session, label_uuid)
        except NotFound as exc:
            raise InvalidInput(f"No label found: {label_uuid}") from exc
        host = get_host(session, label.host_id, for_update=True)
        host_id = host.id
        key = label.label_key
        host.labels.remove(label)
        session.flush()
        desired = {lb.label_key: lb.label_value for lb in host.labels}
        result = ctx.kube.ensure_labels(host.hostname, desired, is_locked(host))
        host.kube_node = describe(result)
    LOG.info("host %s: label %s removed (%s)", host.hostname, key, describe(result))
    host_config.refresh(ctx, [host_id])
    return NodeSync(kube_node=describe(result))


def audit(ctx: ConductorContext) -> LabelAudit:
    """Repair drift of the labels sysinv owns on every joined Node (pending ones arrive here)."""
    if not ctx.kube.enabled:
        return LabelAudit(drift=[])
    with ctx.db.session() as session:
        desired = desired_labels_by_host(session)
        locked = locked_hostnames(session)
    reach = AuditReach()
    found = ctx.kube.audit_labels(desired, locked, reach)
    # The audit is where a Node's labels are retried until they arrive: its verdict on
    # each Node raises or clears that host's 850.100.
    alarms.node_sync(ctx, reach.in_sync, reach.failed)
    return LabelAudit(
        drift=[Drift(hostname=d.hostname, changed=d.changed, removed=d.removed) for d in found]
    )
