"""A controller leaving the control plane when it is locked or deleted (a drain).

In order: its Node cordoned (the lock or delete transaction does it), its agent told to
leave (``kubeadm reset``), the etcd member it held removed through etcd's API
(``sysinv_conductor.kube.etcd``; only with ``kubernetes.etcd_endpoints`` set), then its
Node deleted, so that an unlock joins it to the control plane again. The conductor does
not wait for the agent's reset: removing the member first is etcd's own procedure (a
removed member stops itself), and kubeadm reset then finds its member gone.

Only while another controller stays unlocked: the last controller of the control plane
(a simplex system, a forced lock of the last one) keeps it, cordoned.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sysinv_common.conf.bootstrap import SystemMode
from sysinv_common.db.models import Host
from sysinv_common.db.queries.system import get_system
from sysinv_common.errors import KubeOperationFailed
from sysinv_common.messaging.tasks import AgentTask
from sysinv_common.states.host import Administrative, Personality
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.kube.etcd import EtcdMembers

LOG = logging.getLogger(__name__)


def drains(session: Session, host: Host) -> bool:
    """Whether locking or deleting ``host`` takes it out of the control plane: a
    controller of a redundant system while another controller is unlocked."""
    if host.personality != Personality.CONTROLLER:
        return False
    if get_system(session).system_mode == SystemMode.SIMPLEX:
        return False
    others = session.scalars(
        select(Host.id).where(
            Host.id != host.id,
            Host.personality == Personality.CONTROLLER.value,
            Host.administrative == Administrative.UNLOCKED.value,
        )
    ).first()
    return others is not None


def drain(ctx: ConductorContext, hostname: str, leaving: dict[str, Any]) -> list[str]:
    """The steps after the cordon (committed by the caller): the agent leaves, the etcd
    member goes, the Node goes. Answers what each step did, in order; a failed step is
    reported (and logged), and the steps after it still run."""
    done: list[str] = []
    if ctx.agents is not None:
        ctx.agents.cast(hostname, AgentTask.APPLY_CONFIG, config=leaving)
        done.append("agent told to leave (kubeadm reset)")
    etcd = EtcdMembers.from_settings(ctx.settings.kubernetes)
    if etcd is not None:
        try:
            member = etcd.remove(hostname)
        except Exception as exc:  # reported in the answer; an operator removes it by hand
            LOG.warning("host %s: etcd member not removed: %s", hostname, exc)
            done.append(f"etcd member not removed: {exc}")
        else:
            done.append(f"etcd member {member.id} removed" if member else "no etcd member")
    try:
        done.append(ctx.kube.delete_node(hostname).message)
    except KubeOperationFailed as exc:  # reported; the next lock or delete tries again
        done.append(f"node not deleted: {exc.message}")
    LOG.info("host %s left the control plane: %s", hostname, "; ".join(done))
    return done
