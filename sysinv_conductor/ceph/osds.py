"""Taking OSDs out of a cluster for good: the OSDs of hosts that were deleted."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sysinv_conductor.ceph.client import EBUSY, CephClient, CephCommandFailed


@dataclass
class Removal:
    #: Purged by this call, or no longer in the cluster at all.
    gone: list[int] = field(default_factory=list)
    #: Marked out by this call while their daemons still run: they stay until they stop.
    out_running: list[int] = field(default_factory=list)


def remove(ceph: CephClient, osd_ids: Iterable[int]) -> Removal:
    """Mark each of ``osd_ids`` out (Ceph moves its copies to the other OSDs) and, once it
    is down, purge it: its CRUSH position, its key and its id. One that is still up is
    left to a later call (neither gone nor, once out, marked again).

    A running OSD is never purged: Ceph refuses it, and the daemon would keep the id
    busy until it stops."""
    in_cluster = {o.get("osd"): o for o in ceph.command("osd dump").get("osds", [])}
    removal = Removal()
    for osd_id in osd_ids:
        osd = in_cluster.get(osd_id)
        if osd is None:
            removal.gone.append(osd_id)
            continue
        if osd.get("in"):
            ceph.command("osd out", ids=[str(osd_id)])
        if osd.get("up"):
            if osd.get("in"):
                removal.out_running.append(osd_id)
            continue
        # The manager's purge (the monitors' own refuses a direct call): it answers EBUSY
        # if the OSD came up meanwhile, and success for one already gone.
        try:
            ceph.mgr_command("osd purge", id=osd_id, yes_i_really_mean_it=True)
        except CephCommandFailed as exc:
            if exc.errno == EBUSY:
                continue
            raise
        removal.gone.append(osd_id)
    return removal
