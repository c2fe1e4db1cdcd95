"""Taking an OSD out of a cluster for good: the OSD of a host that was deleted."""

from __future__ import annotations

from sysinv_conductor.ceph.client import EBUSY, CephClient, CephCommandFailed


def remove(ceph: CephClient, osd_id: int) -> bool:
    """Mark ``osd.<osd_id>`` out (Ceph moves its copies to the other OSDs) and, once it is
    down, purge it: its CRUSH position, its key and its id. True when it is gone from the
    cluster (or never was in it); False while its daemon still runs, to be tried again.

    A running OSD is never purged: Ceph refuses it, and the daemon would keep the id
    busy until it stops."""
    dump = ceph.command("osd dump")
    osd = next((o for o in dump.get("osds", []) if o.get("osd") == osd_id), None)
    if osd is None:
        return True
    if osd.get("in"):
        ceph.command("osd out", ids=[str(osd_id)])
    if osd.get("up"):
        return False
    # The manager's purge (the monitors' own refuses a direct call): it answers EBUSY
    # if the OSD came up meanwhile, and success for one already gone.
    try:
        ceph.mgr_command("osd purge", id=osd_id, yes_i_really_mean_it=True)
    except CephCommandFailed as exc:
        if exc.errno == EBUSY:
            return False
        raise
    return True
