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
    get_label,
    lock_host_with_labels,
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
    #: The host's id, or (a str) its id, uuid or hostname as the caller named it.
    host: int | str
    labels: dict[str, str]
    overwrite: bool


def assign(
    ctx: ConductorContext, host: int | str, labels: dict[str, Any], overwrite: bool
) -> LabelsAssigned:
    """Assign labels to ``host`` (its id, or its id, uuid or hostname as a str); answers
    the assigned labels and the node sync result.

    Without ``overwrite`` an existing key refuses the whole request and nothing changes.
    Concurrent assigns to one host are written in batches (:func:`_assign_batch`), each
    request answered as if it had run alone, in arrival order; hosts proceed in parallel.
    """
    wanted = validate_labels(labels)
    key = f"labels_assign:{host}"
    with _lock:
        writer = ctx.coalescers.get(key)
        if writer is None:
            writer = Coalescer(lambda batch: _assign_batch(ctx, batch))
            ctx.coalescers[key] = writer
    answer: LabelsAssigned = writer.submit(_Assign(host, wanted, overwrite))
    return answer


def _assign_batch(
    ctx: ConductorContext, batch: Sequence[_Assign]
) -> list[LabelsAssigned | Exception]:
    """One transaction and one Node patch per host for the batch's requests, in order.

    Batches are per host (``assign``); the loop over hosts below is general, each host in
    a transaction of its own (a Node Kubernetes refuses fails its host's requests only).
    """
    answers: list[LabelsAssigned | Exception | None] = [None] * len(batch)
    by_host: dict[int | str, list[int]] = {}
    for i, request in enumerate(batch):
        by_host.setdefault(request.host, []).append(i)
    for host in sorted(by_host, key=str):
        indexes = by_host[host]
        for i, answer in zip(indexes, _assign_host(ctx, host, [batch[i] for i in indexes]),
                             strict=True):  # fmt: skip
            answers[i] = answer
    return [a if a is not None else Conflict("not handled") for a in answers]


def _assign_host(
    ctx: ConductorContext, ref: int | str, requests: Sequence[_Assign]
) -> list[LabelsAssigned | Exception]:
    """``requests`` (all to the host ``ref``) in one transaction: the host row locked and
    read with its labels, the label rows written, the Node patched, and the host's new
    configuration target given from what was just read; after the commit the target goes
    to its agent. Nothing is read twice."""
    refused: dict[int, Exception] = {}
    rows: dict[int, list[LabelRow]] = {}
    try:
        with ctx.db.session() as session:
            try:
                host = lock_host_with_labels(session, ref)
            except NotFound as exc:
                if isinstance(ref, int):
                    raise
                raise InvalidInput(f"Cannot assign labels: {exc.message}") from None
            for j, request in enumerate(requests):
                conflict = _apply_one(session, host, request, rows, j)
                if conflict is not None:
                    refused[j] = conflict
            if not rows:
                return [refused[j] for j in range(len(requests))]
            desired = {lb.label_key: lb.label_value for lb in host.labels}
            result = ctx.kube.ensure_labels(host.hostname, desired, is_locked(host))
            host.kube_node = describe(result)
            changed = host_config.refresh_in(session, ctx, [host])
            hostname = host.hostname
    except (SysinvError, IntegrityError) as exc:
        error: Exception = exc
        if isinstance(exc, IntegrityError):
            error = Conflict("Another request changed these labels at the same time; "
                             "try again")  # fmt: skip
        return [refused.get(j, error) for j in range(len(requests))]
    keys = sorted({k for j in rows for k in requests[j].labels})
    LOG.info("host %s: labels %s assigned (%s)", hostname, keys, describe(result))
    host_config.push_configs(ctx, changed)
    node = describe(result)
    return [
        LabelsAssigned(labels=rows[j], kube_node=node) if j in rows else refused[j]
        for j in range(len(requests))
    ]


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
        host = lock_host_with_labels(session, label.host_id)
        key = label.label_key
        host.labels.remove(label)
        session.flush()
        desired = {lb.label_key: lb.label_value for lb in host.labels}
        result = ctx.kube.ensure_labels(host.hostname, desired, is_locked(host))
        host.kube_node = describe(result)
        changed = host_config.refresh_in(session, ctx, [host])
    LOG.info("host %s: label %s removed (%s)", host.hostname, key, describe(result))
    host_config.push_configs(ctx, changed)
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
