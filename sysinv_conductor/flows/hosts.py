"""Host operations that reach Kubernetes: lock, unlock, delete, node sync; and host-swact.

Each runs in one database transaction that commits only after Kubernetes accepted the
change, so a refusal leaves the database as it was.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from sysinv_common.conf.bootstrap import SystemMode
from sysinv_common.db.queries.hosts import get_host
from sysinv_common.db.queries.system import get_system
from sysinv_common.errors import InvalidInput
from sysinv_common.messaging.rpcapi import NodeSync, Swacted
from sysinv_common.messaging.tasks import AgentTask
from sysinv_common.states import duties
from sysinv_common.states.host import (
    Action,
    Administrative,
    check_controller_lock,
    claim_active,
    is_locked,
    require_locked,
    swact_controller,
    transition,
)
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import ceph_formation, control_plane, host_config
from sysinv_conductor.kube.nodes import NodeSyncResult

LOG = logging.getLogger(__name__)


def describe(result: NodeSyncResult) -> str:
    return f"{result.state.value}: {result.message}"


def host_action(ctx: ConductorContext, host_id: int, action: str) -> NodeSync:
    act = Action(action)
    if act is Action.SWACT:
        raise InvalidInput("A swact is asked with host_swact, not host_action")
    leaving: dict[str, Any] | None = None
    draining = False
    with ctx.db.session() as session:
        host = get_host(session, host_id, for_update=True)
        if act.target is Administrative.LOCKED:
            check_controller_lock(session, host, act.forced, _redundant(session))
            draining = control_plane.drains(session, host)
        transition(session, host, act)
        if act.target is Administrative.LOCKED and draining:
            leaving = host_config.leave_config(session, host)
        if act.target is Administrative.UNLOCKED:
            claimed = claim_active(session)
            if claimed is not None:
                LOG.info("host %s is the active controller", claimed.hostname)
        result = ctx.kube.set_unschedulable(host.hostname, act.target is Administrative.LOCKED)
        host.kube_node = describe(result)
        hostname = host.hostname
    LOG.info("host %s: %s done (%s)", hostname, act.value, describe(result))
    host_config.refresh(ctx, [host_id])
    if leaving is None:
        return NodeSync(kube_node=describe(result))
    # A controller locked while another one serves leaves the control plane.
    steps = control_plane.drain(ctx, hostname, leaving)
    summary = "; ".join([describe(result), *steps])
    with ctx.db.session() as session:
        get_host(session, host_id).kube_node = summary
    return NodeSync(kube_node=summary)


def _redundant(session: Session) -> bool:
    """Two controllers may exist: every mode but simplex."""
    return bool(get_system(session).system_mode != SystemMode.SIMPLEX)


def host_swact(ctx: ConductorContext, host_id: int) -> Swacted:
    """Make the controller other than ``host_id`` (the active one) active; the periodic
    audits' lease goes to its conductor."""
    with ctx.db.session() as session:
        host = get_host(session, host_id, for_update=True)
        target = swact_controller(session, host, _redundant(session))
        hostname, active, active_id = host.hostname, target.hostname, target.id
        # The singleton duties move with the role, in the same transaction: from its
        # commit the old active controller's conductor no longer holds them.
        lease = timedelta(seconds=ctx.settings.conductor.duty_lease)
        duties.hand_over(session, duties.AUDITS, active, lease, datetime.now(UTC))
    LOG.info("host-swact: %s is now the active controller (was %s)", active, hostname)
    # Both controllers get new targets: the floating address moves to the new active one.
    host_config.refresh(ctx, [host_id, active_id])
    return Swacted(active=active)


def host_delete(ctx: ConductorContext, host_id: int) -> NodeSync:
    with ctx.db.session() as session:
        host = get_host(session, host_id, for_update=True)
        require_locked(host, "delete")
        # Its OSDs leave the platform's Ceph cluster (the Ceph audit purges them), or the
        # delete is refused, before anything else changed, when they hold its only copies.
        osds = ceph_formation.release_host(session, host, lambda: ctx.secrets.fernet)
        draining = control_plane.drains(session, host)
        # A controller leaving the control plane keeps its Node (cordoned) until its
        # etcd member is gone: drain() deletes it last.
        if draining:
            result = ctx.kube.set_unschedulable(host.hostname, True)
        else:
            result = ctx.kube.delete_node(host.hostname)
        hostname = host.hostname
        leaving = host_config.leave_config(session, host)
        session.delete(host)
        session.flush()  # the active controller's row gone, none is active: another may be
        claimed = claim_active(session)
        claimed_id = claimed.id if claimed is not None else None
    summary = describe(result)
    if draining:  # the agent leaves, then the etcd member and the Node go
        summary = "; ".join([summary, *control_plane.drain(ctx, hostname, leaving)])
    elif ctx.agents is not None:
        # The node leaves the cluster; its agent has no host to report for afterwards.
        ctx.agents.cast(hostname, AgentTask.APPLY_CONFIG, config=leaving)
    LOG.info("host %s deleted (%s)", hostname, summary)
    if osds:
        LOG.info("host %s: its OSDs %s leave the platform's Ceph cluster", hostname,
                 ", ".join(f"osd.{i}" for i in osds))  # fmt: skip
        host_config.refresh(ctx)  # the others' replication follows the hosts left
    if claimed is not None:
        LOG.info("host %s is the active controller", claimed.hostname)
    if claimed_id is not None:  # it now holds the floating address
        host_config.refresh(ctx, [claimed_id])
    return NodeSync(kube_node=summary)


def host_sync(ctx: ConductorContext, host_id: int) -> NodeSync:
    """Bring the host's Node in line with its labels, and record how that went."""
    with ctx.db.session() as session:
        host = get_host(session, host_id, for_update=True)
        desired = {lb.label_key: lb.label_value for lb in host.labels}
        result = ctx.kube.ensure_labels(host.hostname, desired, cordon=is_locked(host))
        host.kube_node = describe(result)
    host_config.refresh(ctx, [host_id])
    return NodeSync(kube_node=describe(result))
