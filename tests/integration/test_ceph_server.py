"""The Ceph test server: a real cluster that reaches HEALTH_OK and stores objects."""

from __future__ import annotations

from tests.servers.ceph import CephCluster


def test_ceph_cluster_is_healthy_with_cephx(ceph_cluster: CephCluster) -> None:
    assert ceph_cluster.health() == "HEALTH_OK"
    assert ceph_cluster.up_osds() >= 1
    status = ceph_cluster.ceph_json("status")
    assert status["fsid"] == ceph_cluster.fsid
    # cephx is on: the admin keyring is what lets a client in, and it is private.
    assert "client.admin" in ceph_cluster.admin_keyring.read_text()
    assert ceph_cluster.admin_keyring.stat().st_mode & 0o777 == 0o600
    assert "auth client required = cephx" in ceph_cluster.conf_file.read_text()


def test_ceph_cluster_stores_an_object_in_a_pool_of_its_own(ceph_cluster: CephCluster) -> None:
    pool = "test-server-objects"
    ceph_cluster.ceph("osd", "pool", "create", pool, "8")
    try:
        ceph_cluster.ceph("osd", "pool", "application", "enable", pool, "rados")
        ceph_cluster._run("rados", "-c", str(ceph_cluster.conf_file), "-p", pool, "put",
                          "greeting", "/dev/stdin", input="hello")  # fmt: skip
        got = ceph_cluster._run("rados", "-c", str(ceph_cluster.conf_file), "-p", pool, "get",
                                "greeting", "-")  # fmt: skip
        assert got == "hello"
    finally:
        ceph_cluster.delete_pool(pool)
    assert pool not in ceph_cluster.ceph("osd", "pool", "ls")
