"""Host operations that reach Kubernetes: lock, unlock, delete, node sync.

Each runs in one database transaction that commits only after Kubernetes accepted the
change, so a refusal leaves the database as it was.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sysinv_common.conf.bootstrap import SystemMode
from sysinv_common.db.models import Host
from sysinv_common.db.queries.hosts import get_host
from sysinv_common.db.queries.system import get_system
from sysinv_common.errors import InvalidState
from sysinv_common.messaging.rpcapi import NodeSync
from sysinv_common.messaging.tasks import AgentTask
from sysinv_common.states.host import (
    Action,
    Administrative,
    Personality,
    is_locked,
    require_locked,
    transition,
)
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import host_config
from sysinv_conductor.kube.nodes import NodeSyncResult

LOG = logging.getLogger(__name__)


def describe(result: NodeSyncResult) -> str:
    return f"{result.state.value}: {result.message}"


def host_action(ctx: ConductorContext, host_id: int, action: str) -> NodeSync:
    act = Action(action)
    with ctx.db.session() as session:
        host = get_host(session, host_id, for_update=True)
        if act is Action.LOCK:
            _check_lock_is_safe(session, host)
        transition(session, host, act)
        result = ctx.kube.set_unschedulable(host.hostname, act.target is Administrative.LOCKED)
        host.kube_node = describe(result)
    LOG.info("host %s: %s done (%s)", host.hostname, act.value, describe(result))
    host_config.refresh(ctx, [host_id])
    return NodeSync(kube_node=describe(result))


def _check_lock_is_safe(session: Session, host: Host) -> None:
    """Plain lock refuses to take the last unlocked controller of a redundant system."""
    if host.personality != Personality.CONTROLLER:
        return
    if get_system(session).system_mode == SystemMode.SIMPLEX:
        return
    others = session.scalar(
        select(func.count(Host.id)).where(
            Host.id != host.id,
            Host.personality == Personality.CONTROLLER.value,
            Host.administrative == Administrative.UNLOCKED.value,
        )
    )
    if not others:
        raise InvalidState(
            f"Rejected: cannot lock {host.hostname}: it is the only unlocked controller; "
            "use force-lock to lock it anyway"
        )


def host_delete(ctx: ConductorContext, host_id: int) -> NodeSync:
    with ctx.db.session() as session:
        host = get_host(session, host_id, for_update=True)
        require_locked(host, "delete")
        result = ctx.kube.delete_node(host.hostname)
        hostname = host.hostname
        leaving = host_config.leave_config(session, host)
        session.delete(host)
    if ctx.agents is not None:
        # The node leaves the cluster; its agent has no host to report for afterwards.
        ctx.agents.cast(hostname, AgentTask.APPLY_CONFIG, config=leaving)
    LOG.info("host %s deleted (%s)", hostname, describe(result))
    return NodeSync(kube_node=describe(result))


def host_sync(ctx: ConductorContext, host_id: int) -> NodeSync:
    """Bring the host's Node in line with its labels, and record how that went."""
    with ctx.db.session() as session:
        host = get_host(session, host_id, for_update=True)
        desired = {lb.label_key: lb.label_value for lb in host.labels}
        result = ctx.kube.ensure_labels(host.hostname, desired, cordon=is_locked(host))
        host.kube_node = describe(result)
    host_config.refresh(ctx, [host_id])
    return NodeSync(kube_node=describe(result))
