"""The three-member etcd test cluster: quorum writes over mutual TLS, surviving a SIGKILL."""

from __future__ import annotations

import base64
import json
import os
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers.etcd_cluster import EtcdCluster


@pytest.fixture(scope="module")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdCluster]:
    cluster = EtcdCluster(tmp_path_factory.mktemp("etcd-cluster"), members=3).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _call(cluster: EtcdCluster, member: int, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{cluster.endpoints[member]}{path}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, context=cluster.ssl_context(), timeout=10) as answer:
        return json.loads(answer.read())


def _put(cluster: EtcdCluster, member: int, key: str, value: str) -> None:
    _call(cluster, member, "/v3/kv/put", {"key": _b64(key), "value": _b64(value)})


def _get(cluster: EtcdCluster, member: int, key: str) -> str | None:
    kvs = _call(cluster, member, "/v3/kv/range", {"key": _b64(key)}).get("kvs", [])
    return base64.b64decode(kvs[0]["value"]).decode() if kvs else None


def test_members_form_one_cluster(etcd: EtcdCluster) -> None:
    assert len(etcd.endpoints) == 3
    assert all(url.startswith("https://127.0.0.1:") for url in etcd.endpoints)
    members = _call(etcd, 0, "/v3/cluster/member/list", {})["members"]
    assert sorted(m["name"] for m in members) == sorted(etcd.names)
    _put(etcd, 0, "/ha/one", "written-on-0")
    assert [_get(etcd, i, "/ha/one") for i in range(3)] == ["written-on-0"] * 3


def test_clients_need_a_certificate_of_the_cluster_ca(etcd: EtcdCluster) -> None:
    anonymous = ssl.create_default_context(cafile=str(etcd.ca_file))
    with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"{etcd.endpoints[1]}/health", context=anonymous, timeout=5)


def test_leadership_moves_on_request(etcd: EtcdCluster) -> None:
    for i in (2, 0):
        etcd.move_leader(i)
        assert etcd.leader() == i


def test_quorum_survives_a_killed_member_which_catches_up(etcd: EtcdCluster) -> None:
    etcd.move_leader(0)
    etcd.kill(0)  # the leader: the two others elect one of them
    assert etcd.leader() in (1, 2)
    assert not etcd.alive(0)
    assert not etcd.healthy(0)
    etcd.wait_healthy(1, 30)
    _put(etcd, 1, "/ha/two", "written-without-0")
    assert _get(etcd, 2, "/ha/two") == "written-without-0"
    etcd.restart(0)
    assert _get(etcd, 0, "/ha/two") == "written-without-0"


def test_stop_removes_everything(tmp_path: Path) -> None:
    cluster = EtcdCluster(tmp_path / "single", members=1).start()
    assert cluster.healthy(0)
    pids = [p.pid for p in cluster.procs if p is not None]
    cluster.stop()
    assert not (tmp_path / "single").exists()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
