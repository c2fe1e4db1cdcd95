"""Assigning and removing host labels: the database and the Node change together."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import IntegrityError

from sysinv_common.db.models import Label
from sysinv_common.db.queries.hosts import desired_labels_by_host, get_host, get_label
from sysinv_common.errors import Conflict, InvalidInput, NotFound
from sysinv_common.messaging.rpcapi import Drift, LabelAudit, LabelRow, LabelsAssigned, NodeSync
from sysinv_common.validation import validate_labels
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import host_config
from sysinv_conductor.flows.hosts import describe

LOG = logging.getLogger(__name__)


def assign(
    ctx: ConductorContext, host_id: int, labels: dict[str, Any], overwrite: bool
) -> LabelsAssigned:
    """Assign labels; answers the assigned labels and the node sync result.

    Without ``overwrite`` an existing key refuses the whole request and nothing changes.
    """
    wanted = validate_labels(labels)
    try:
        with ctx.db.session() as session:
            host = get_host(session, host_id, for_update=True)
            existing = {lb.label_key: lb for lb in host.labels}
            if not overwrite:
                taken = sorted(k for k in wanted if k in existing)
                if taken:
                    raise Conflict(
                        f"Label {', '.join(taken)} exists for host {host.hostname}. "
                        "Use overwrite option to assign a new value."
                    )
            assigned: list[Label] = []
            for key, value in wanted.items():
                label = existing.get(key)
                if label is None:
                    label = Label(label_key=key, label_value=value)
                    host.labels.append(label)
                else:
                    label.label_value = value
                assigned.append(label)
            session.flush()
            desired = {lb.label_key: lb.label_value for lb in host.labels}
            result = ctx.kube.ensure_labels(host.hostname, desired)
            host.kube_node = describe(result)
            rows = sorted(
                (LabelRow(uuid=lb.uuid, label_key=lb.label_key, label_value=lb.label_value,
                          host_uuid=host.uuid) for lb in assigned),
                key=lambda r: r.label_key,
            )  # fmt: skip
    except IntegrityError as exc:
        raise Conflict("Another request changed these labels at the same time; try again") from exc
    LOG.info("host %s: labels %s assigned (%s)", host.hostname, sorted(wanted), describe(result))
    host_config.refresh(ctx, [host_id])
    return LabelsAssigned(labels=rows, kube_node=describe(result))


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
        result = ctx.kube.ensure_labels(host.hostname, desired)
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
    found = ctx.kube.audit_labels(desired)
    return LabelAudit(
        drift=[Drift(hostname=d.hostname, changed=d.changed, removed=d.removed) for d in found]
    )
