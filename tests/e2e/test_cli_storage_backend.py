"""``system storage-backend-*`` against a live ``sysinv aio`` with the real Ceph and
Kubernetes test clusters."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Aio, start_aio, stop_aio
from tests.servers.ceph import CephCluster
from tests.servers.ports import free_port

pytestmark = pytest.mark.kube


@pytest.fixture(scope="module")
def aio_ceph(
    kube_cluster: Any, ceph_cluster: CephCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Aio]:
    env = {
        "SYSINV_KUBERNETES__KUBECONFIG": str(kube_cluster.kubeconfig),
        "SYSINV_CEPH__MONITORS": json.dumps(ceph_cluster.monitors),
        "SYSINV_CEPH__ADMIN_KEYRING": str(ceph_cluster.admin_keyring),
        "SYSINV_CEPH__CONNECT_TIMEOUT": "3",
    }
    server = start_aio(tmp_path_factory.mktemp("aio-ceph") / "data", env=env)
    try:
        yield server
    finally:
        for row in json.loads(server.system("storage-backend-list", "--format", "json").stdout):
            server.system("storage-backend-delete", row["uuid"], check=False)
        stop_aio(server)
        if "kube-rbd" in ceph_cluster.ceph("osd", "pool", "ls").split():
            ceph_cluster.delete_pool("kube-rbd")


def test_add_show_delete_a_ceph_backend(aio_ceph: Aio, ceph_cluster: CephCluster) -> None:
    out = aio_ceph.system("storage-backend-add", "ceph", "--confirmed").stdout
    assert "configured" in out and "ceph-store" in out
    rows = json.loads(aio_ceph.system("storage-backend-list", "--format", "json").stdout)
    assert [(r["name"], r["backend"], r["state"]) for r in rows] == [
        ("ceph-store", "ceph", "configured")
    ]
    shown = aio_ceph.system("storage-backend-show", "ceph-store").stdout
    assert "HEALTH_OK" in shown and ceph_cluster.fsid in shown
    assert "client.kube" in ceph_cluster.ceph("auth", "ls")
    out = aio_ceph.system("storage-backend-delete", "ceph-store").stdout
    assert "Deleted storage backend ceph-store" in out
    assert "client.kube" not in ceph_cluster.ceph("auth", "ls")
    assert "kube-rbd" not in ceph_cluster.ceph("osd", "pool", "ls").split()


def test_external_backend_that_cannot_be_reached_fails_with_its_reason(
    aio_ceph: Aio, ceph_cluster: CephCluster
) -> None:
    monitor = f"127.0.0.1:{free_port()}"
    result = aio_ceph.system(
        "storage-backend-add", "ceph-external", f"monitors={monitor}",
        f"keyring_path={ceph_cluster.admin_keyring}", check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert f"Storage backend ceph-ext-store failed: no Ceph monitor at {monitor}" in result.stderr
    assert "kube-rbd" not in ceph_cluster.ceph("osd", "pool", "ls").split()
    result = aio_ceph.system("storage-backend-add", "ceph", check=False)
    assert result.returncode != 0
    assert "already exists" in result.stderr
    aio_ceph.system("storage-backend-delete", "ceph-ext-store")
    result = aio_ceph.system("storage-backend-add", "ceph-external", "size=3", check=False)
    assert result.returncode != 0 and "Unknown parameter(s) size" in result.stderr


def test_a_failed_backend_is_retried_and_its_fsid_cleared_from_the_cli(
    aio_ceph: Aio, ceph_cluster: CephCluster
) -> None:
    other = str(uuid.uuid4())
    result = aio_ceph.system(
        "storage-backend-add", "ceph-external", f"monitors={','.join(ceph_cluster.monitors)}",
        f"fsid={other}", f"keyring_path={ceph_cluster.admin_keyring}", check=False,
    )  # fmt: skip
    assert result.returncode != 0 and f"has fsid {ceph_cluster.fsid}, not {other}" in result.stderr
    # Nothing given: the failed backend is retried as it is (and fails the same way).
    result = aio_ceph.system("storage-backend-modify", "ceph-ext-store", check=False)
    assert result.returncode != 0 and f"not {other}" in result.stderr
    # fsid= clears it: the cluster at the monitors is taken.
    out = aio_ceph.system("storage-backend-modify", "ceph-ext-store", "fsid=").stdout
    assert "configured" in out and ceph_cluster.fsid in out
    result = aio_ceph.system("storage-backend-modify", "ceph-ext-store", check=False)
    assert result.returncode != 0
    assert "No changes to the existing backend settings were detected" in result.stderr
    aio_ceph.system("storage-backend-delete", "ceph-ext-store")
