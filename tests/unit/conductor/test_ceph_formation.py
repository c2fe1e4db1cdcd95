"""A deleted storage host's OSDs leave the formed cluster's record: their ids move to the
ones leaving (never given again until gone), their keys go, and the last OSDs stay, as do
the monitors' hosts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from sysinv_common.db.engine import Database
from sysinv_common.db.models import Host, StorageBackend, System
from sysinv_common.db.prepare import prepare_database
from sysinv_common.errors import InvalidState
from sysinv_common.states import host as host_states
from sysinv_conductor.flows import ceph_formation
from tests.stack import make_settings

FERNET = Fernet(Fernet.generate_key())


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A standard system: controller-0 (the monitor), storage-0 and storage-1 (an OSD
    each), and its formed backend."""
    settings = make_settings(tmp_path)
    database = prepare_database(settings)
    with database.session() as s:
        s.scalars(select(System)).one().system_type = "Standard"
        s.add(host_states.new_host(hostname="controller-0", personality="controller",
                                   mgmt_ip="10.0.0.1"))  # fmt: skip
        for i in (0, 1):
            s.add(host_states.new_host(hostname=f"storage-{i}", personality="storage"))
        s.flush()
        s.add(StorageBackend(name="ceph-store", backend="ceph", state="configured",
                             **ceph_formation.new_cluster(s, settings.ceph, FERNET)))  # fmt: skip
    yield database
    database.dispose()


def host(s: Session, name: str) -> Host:
    return s.scalars(select(Host).where(Host.hostname == name)).one()


def backend(s: Session) -> StorageBackend:
    return s.scalars(select(StorageBackend)).one()


def keys(row: StorageBackend) -> set[str]:
    return set(json.loads(FERNET.decrypt(row.cluster_keys or "")))


def test_a_deleted_hosts_osd_leaves_and_its_id_is_not_given_again(db: Database) -> None:
    with db.session() as s:
        storage1 = host(s, "storage-1")
        assert ceph_formation.release_host(s, storage1, lambda: FERNET) == [1]
        s.delete(storage1)
    with db.session() as s:
        row = backend(s)
        assert row.cluster is not None
        assert [o["id"] for o in row.cluster["osds"]] == [0]
        assert ceph_formation.leaving(row) == [1]
        assert keys(row) == {"mon.", "client.admin", "osd.0"}
        # A storage host added while osd.1 is still in the cluster gets a new id.
        s.add(host_states.new_host(hostname="storage-2", personality="storage"))
        s.flush()
        assert ceph_formation.add_missing_osds(s, row, FERNET) == ["storage-2"]
        assert [o["id"] for o in row.cluster["osds"]] == [0, 2]
        ceph_formation.forget_leaving(row, [1])
    with db.session() as s:
        row = backend(s)
        assert ceph_formation.leaving(row) == []
        assert keys(row) == {"mon.", "client.admin", "osd.0", "osd.2"}


def test_the_host_with_the_last_osds_is_kept(db: Database) -> None:
    with db.session() as s:
        ceph_formation.release_host(s, host(s, "storage-1"), lambda: FERNET)
        before = dict(backend(s).cluster or {}), backend(s).cluster_keys
        with pytest.raises(InvalidState, match="holds the last OSDs"):
            ceph_formation.release_host(s, host(s, "storage-0"), lambda: FERNET)
        assert (backend(s).cluster, backend(s).cluster_keys) == before


def test_a_monitor_host_is_kept_and_the_refusal_says_why(db: Database) -> None:
    with db.session() as s:
        before = dict(backend(s).cluster or {}), backend(s).cluster_keys
        with pytest.raises(InvalidState, match="controller-0 runs its only monitor") as alone:
            ceph_formation.release_host(s, host(s, "controller-0"), lambda: FERNET)
        assert "delete storage backend ceph-store first" in alone.value.message
        assert (backend(s).cluster, backend(s).cluster_keys) == before
        # Two monitors: the other alone is no majority of the monmap.
        c1 = host_states.new_host(hostname="controller-1", personality="controller",
                                  mgmt_ip="10.0.0.2")  # fmt: skip
        s.add(c1)
        s.flush()
        row = backend(s)
        assert row.cluster is not None
        monitors = [*row.cluster["monitors"], {"name": "controller-1", "host_id": c1.id,
                                              "ip": "10.0.0.2"}]  # fmt: skip
        row.cluster = {**row.cluster, "monitors": monitors}
        with pytest.raises(InvalidState, match="monitor controller-1, without which its other "
                                               "monitor is no majority"):  # fmt: skip
            ceph_formation.release_host(s, c1, lambda: FERNET)
        # A controller with no monitor (a third one, say) is not held back.
        c2 = host_states.new_host(hostname="controller-2", personality="controller")
        s.add(c2)
        s.flush()
        assert ceph_formation.release_host(s, c2, lambda: FERNET) == []
