"""The conductor's Ceph client against the real test cluster: pools, keys, health, and
clear errors (never a hang) when Ceph cannot be reached."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sysinv_common.conf.ceph import CephClientSettings
from sysinv_common.errors import Conflict, InvalidInput, Unavailable
from sysinv_conductor.ceph import keys, pools, status
from sysinv_conductor.ceph.client import CephClient, CephTarget, connect
from tests.ceph_checks import assert_key_confined_to
from tests.servers.ceph import CephCluster
from tests.servers.ports import free_port

SETTINGS = CephClientSettings(connect_timeout=3, op_timeout=10)


def admin_target(cluster: CephCluster) -> CephTarget:
    return CephTarget(monitors=tuple(cluster.monitors), keyring_path=cluster.admin_keyring)


@pytest.fixture
def ceph(ceph_cluster: CephCluster) -> Iterator[CephClient]:
    with connect(admin_target(ceph_cluster), SETTINGS) as client:
        yield client


@pytest.fixture
def pool_name(ceph_cluster: CephCluster) -> Iterator[str]:
    name = f"test-{uuid.uuid4().hex[:8]}"
    yield name
    if name in ceph_cluster.ceph("osd", "pool", "ls").split():
        ceph_cluster.delete_pool(name)


@pytest.mark.parametrize(
    ("hosts", "size", "min_size"), [(1, 1, 1), (2, 2, 1), (3, 3, 2), (5, 3, 2)]
)
def test_replication_follows_the_number_of_storage_hosts(
    hosts: int, size: int, min_size: int
) -> None:
    assert pools.replication_for(hosts) == pools.Replication(size=size, min_size=min_size)


def test_pool_is_created_with_its_replication_application_and_autoscaling(
    ceph: CephClient, ceph_cluster: CephCluster, pool_name: str
) -> None:
    assert pools.ensure_pool(ceph, pool_name, pools.replication_for(1), "rbd") is True
    # Ceph's own view, through its CLI rather than the client under test.
    got = ceph_cluster.ceph_json("osd", "pool", "get", pool_name, "all")
    assert (got["size"], got["min_size"], got["pg_autoscale_mode"]) == (1, 1, "on")
    assert set(ceph_cluster.ceph_json("osd", "pool", "application", "get", pool_name)) == {"rbd"}
    # Again: nothing to create, nothing changes.
    assert pools.ensure_pool(ceph, pool_name, pools.replication_for(1), "rbd") is False
    pools.delete_pool(ceph, pool_name)
    assert pool_name not in pools.list_pools(ceph)
    pools.delete_pool(ceph, pool_name)  # already gone: fine


def test_replication_changes_when_hosts_are_added(
    ceph: CephClient, ceph_cluster: CephCluster, pool_name: str
) -> None:
    pools.ensure_pool(ceph, pool_name, pools.replication_for(1), "rbd")
    pools.set_replication(ceph, pool_name, pools.replication_for(3))
    info = pools.pool_info(ceph, pool_name)
    assert (info.size, info.min_size) == (3, 2)
    pools.set_replication(ceph, pool_name, pools.replication_for(2))
    got = ceph_cluster.ceph_json("osd", "pool", "get", pool_name, "all")
    assert (got["size"], got["min_size"]) == (2, 1)


def test_client_key_has_exactly_rbd_caps_on_its_pool(
    ceph: CephClient, ceph_cluster: CephCluster, pool_name: str
) -> None:
    entity = f"client.test-{pool_name}"
    key = keys.ensure_key(ceph, entity, keys.rbd_caps(pool_name))
    try:
        got = ceph_cluster.ceph_json("auth", "get", entity)[0]
        assert got["caps"] == {"mon": "profile rbd", "osd": f"profile rbd pool={pool_name}"}
        assert got["key"] == key
        # Asked again with other caps: same key, the caps replaced.
        assert keys.ensure_key(ceph, entity, keys.rbd_caps("elsewhere")) == key
        assert keys.get_caps(ceph, entity) == keys.rbd_caps("elsewhere")
    finally:
        keys.delete_key(ceph, entity)
    assert keys.get_caps(ceph, entity) is None


def test_rbd_key_reaches_its_pool_and_no_other(
    ceph: CephClient, ceph_cluster: CephCluster, pool_name: str
) -> None:
    other = f"{pool_name}-other"
    pools.ensure_pool(ceph, pool_name, pools.replication_for(1), "rbd")
    pools.ensure_pool(ceph, other, pools.replication_for(1), "rbd")
    entity = f"client.test-{pool_name}"
    key = keys.ensure_key(ceph, entity, keys.rbd_caps(pool_name))
    user = entity.removeprefix("client.")
    try:
        assert_key_confined_to(ceph_cluster.monitors, user, key, pool_name, other)
    finally:
        keys.delete_key(ceph, entity)
        pools.delete_pool(ceph, other)


def test_health_and_usage_come_from_the_cluster(
    ceph: CephClient, ceph_cluster: CephCluster
) -> None:
    got = status.cluster_status(ceph)
    assert got.fsid == ceph_cluster.fsid
    assert got.health == "HEALTH_OK"
    assert got.checks == {}
    assert got.osds_up == got.osds >= 1
    assert got.total_bytes >= 1024**3 and 0 < got.avail_bytes <= got.total_bytes


def test_unreachable_monitors_fail_within_the_timeout() -> None:
    target = CephTarget(
        monitors=(f"127.0.0.1:{free_port()}",), key="AQBhJ0xlAAAAABAAqKmMXkdgPBcEu5Z+Wx8nGA=="
    )
    started = time.monotonic()
    with (
        pytest.raises(Unavailable, match=r"no Ceph monitor at 127\.0\.0\.1:\d+ .* within 3 s"),
        connect(target, SETTINGS),
    ):
        pass
    assert time.monotonic() - started < SETTINGS.connect_timeout + 3


def test_wrong_key_fails_clearly(ceph_cluster: CephCluster) -> None:
    target = CephTarget(
        monitors=tuple(ceph_cluster.monitors), key="AQBhJ0xlAAAAABAAqKmMXkdgPBcEu5Z+Wx8nGA=="
    )
    with pytest.raises(Unavailable, match="a key they do not know"), connect(target, SETTINGS):
        pass


def test_keyring_file_must_be_readable_and_hold_the_user(
    tmp_path: Path, ceph_cluster: CephCluster
) -> None:
    missing = CephTarget(monitors=tuple(ceph_cluster.monitors), keyring_path=tmp_path / "none")
    with pytest.raises(InvalidInput, match="cannot be read"), connect(missing, SETTINGS):
        pass
    other = tmp_path / "other.keyring"
    other.write_text("[client.someone]\n\tkey = AQBhJ0xlAAAAABAAqKmMXkdgPBcEu5Z+Wx8nGA==\n")
    with (
        pytest.raises(InvalidInput, match=r"no key of client\.admin"),
        connect(CephTarget(monitors=tuple(ceph_cluster.monitors), keyring_path=other), SETTINGS),
    ):
        pass


def test_another_clusters_fsid_is_refused(ceph_cluster: CephCluster) -> None:
    target = CephTarget(
        monitors=tuple(ceph_cluster.monitors),
        keyring_path=ceph_cluster.admin_keyring,
        fsid=str(uuid.uuid4()),
    )
    with pytest.raises(Conflict, match=f"has fsid {ceph_cluster.fsid}"), connect(target, SETTINGS):
        pass


def test_a_command_to_a_stopped_cluster_times_out(ceph_cluster: CephCluster) -> None:
    """Connected, then the monitor stops answering (SIGSTOP): the command fails after
    op_timeout instead of hanging."""
    quick = CephClientSettings(connect_timeout=3, op_timeout=2)
    assert ceph_cluster.mon is not None
    with connect(admin_target(ceph_cluster), quick) as client:
        ceph_cluster.mon.proc.send_signal(19)  # SIGSTOP
        try:
            started = time.monotonic()
            with pytest.raises(Unavailable, match="did not answer 'status' within 2 s"):
                client.command("status")
            assert time.monotonic() - started < 6
        finally:
            ceph_cluster.mon.proc.send_signal(18)  # SIGCONT
    assert ceph_cluster.health() in ("HEALTH_OK", "HEALTH_WARN")
