"""The platform-managed Ceph cluster sysinv forms from the platform's hosts, end to end.

Hosts are added and unlocked through the API and ``storage-backend-add ceph`` is asked with
no ``ceph.monitors`` setting: the conductor decides the cluster (fsid, monitors on the
controllers, an OSD per storage host, the cephx keys). Each host's configuration, as the
conductor produced it, goes to the agent's Ceph configurator (a recording runner, files
under a root of the host's own), and the recorded commands and files go to real
``ceph-mon``/``ceph-mgr``/``ceph-osd`` processes, as in ``test_ceph_node_config``. The
cluster reaches HEALTH_OK with the replication sysinv chose; the Ceph audit then finds it
answering and configures the backend: the ``kube-rbd`` pool, ``client.kube`` and the
Kubernetes Secrets are made in that cluster.

The monitors listen on 127.0.0.1 and 127.0.0.2 (each host's management address, on ports
of this test's own); the OSDs and managers on the loopback network.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select

from helm_overrides.platform import ceph as ceph_charts
from sysinv_agent.configurators.ceph import CephConfigurator
from sysinv_common.db.models import Host, StorageBackend, System
from sysinv_common.nodeconfig import HostConfig
from sysinv_common.states import storage_backend as storage_states
from sysinv_common.states.storage_backend import BackendState
from sysinv_conductor.ceph import pools
from sysinv_conductor.ceph.client import CephTarget, connect
from sysinv_conductor.flows import host_config, storage_backends
from tests.ceph_checks import SETTINGS, assert_key_confined_to
from tests.ceph_nodes import TEST_OPTIONS, Node, ceph_json, phase
from tests.servers.ports import free_port
from tests.stack import Stack, make_settings, running_stack

pytestmark = pytest.mark.kube

POOL = ceph_charts.POOL
SECRET = ceph_charts.USER_SECRET_NAME
NAMESPACES = ("kube-system", "default", "kube-public")


@pytest.fixture(scope="module")
def stack(kube_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = make_settings(tmp_path_factory.mktemp("ceph-formed"))
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.kubernetes.label_audit_interval = 3600
    # The hosts' management addresses are loopback ones: the Ceph public network.
    settings.bootstrap.mgmt_subnet = IPv4Network("127.0.0.0/8")
    settings.ceph.monitors = []  # nothing named: the cluster is formed from the hosts
    settings.ceph.objectstore = "memstore"
    settings.ceph.daemon_options = dict(TEST_OPTIONS)
    settings.ceph.connect_timeout = 3
    settings.ceph.op_timeout = 10
    settings.ceph.audit_interval = 3600  # the test runs the audit itself
    with running_stack(settings) as s:
        yield s


def secrets_of(kube: Any) -> dict[str, str]:
    """Namespace -> the key in its ``ceph-pool-kube-rbd`` Secret."""
    found = {}
    for ns in NAMESPACES:
        for secret in kube.core_v1().list_namespaced_secret(ns).items:
            if secret.metadata.name == SECRET:
                found[ns] = base64.b64decode(secret.data["key"]).decode()
    return found


def keys_in(configs: list[HostConfig]) -> set[str]:
    """Every cephx key the conductor handed out."""
    keys: set[str] = set()
    for config in configs:
        ceph = config.ceph
        assert ceph is not None
        for text in (ceph.keyring, ceph.daemons.mon_keyring if ceph.daemons else None):
            for line in (text or "").splitlines():
                if line.strip().startswith("key = "):
                    keys.add(line.split("=", 1)[1].strip())
        keys |= {o.secret for o in (ceph.daemons.osds if ceph.daemons else [])}
    return keys


def start_daemons(nodes: list[Node]) -> dict[str, list[list[str]]]:
    """Each node's configuration through the agent's configurator, then the recorded
    commands run as the nodes would (every monitor, then the managers, then the OSDs);
    the commands by hostname."""
    commands = {}
    for node in nodes:
        result = CephConfigurator().apply(node.config, node.ctx)
        assert result.ok, result.message
        commands[node.config.hostname] = result.commands
    for step in (0, 1, 2):
        for node in nodes:
            for argv in commands[node.config.hostname]:
                if phase(argv) == step:
                    node.run(argv)
    return commands


def wait_for(what: str, check: Any, nodes: list[Node], timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        for node in nodes:
            for proc in node.daemons:
                proc.check_alive()
        status = ceph_json(nodes[0], "status")
        if check(status):
            return status
        assert time.monotonic() < deadline, f"{what}: {json.dumps(status)[:2000]}"
        time.sleep(1)


def clean_pgs(status: dict[str, Any]) -> bool:
    pgs = status.get("pgmap", {})
    clean = [s for s in pgs.get("pgs_by_state", []) if s["state_name"] == "active+clean"]
    return bool(clean) and clean[0]["count"] == pgs.get("num_pgs")


def all_clean(status: dict[str, Any]) -> bool:
    return status.get("health", {}).get("status") == "HEALTH_OK" and clean_pgs(status)


@pytest.mark.parametrize("count", [1, 2], ids=["one-host", "two-host"])
def test_hosts_form_a_cluster_the_backend_is_configured_in(
    stack: Stack, kube_cluster: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    count: int,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    ctx = stack.conductor.ctx
    # Ports of this test's own on each monitor's address.
    ctx.settings.ceph.mon_port, ctx.settings.ceph.mon_v2_port = free_port(), free_port()
    port = ctx.settings.ceph.mon_port
    names = [f"controller-{i}" for i in range(count)]
    for i, name in enumerate(names):
        host = stack.add_host(name, "controller", mgmt_ip=f"127.0.0.{i + 1}")
        r = stack.action(host, "unlock")
        assert r.status_code == 200, r.text
    stack.add_host("worker-0", "worker", mgmt_ip="127.0.0.9")
    nodes: list[Node] = []
    answers: list[str] = []
    try:
        r = stack.client.post("/v1/storage_backend", json={"backend": "ceph"})
        assert r.status_code == 200, r.text
        answers.append(r.text)
        row = r.json()
        # Formed on the hosts: configuring until the cluster answers.
        assert (row["state"], row["name"], row["reason"]) == ("configuring", "ceph-store", None)
        assert row["monitors"] == [f"127.0.0.{i + 1}:{port}" for i in range(count)]
        fsid = row["fsid"]
        assert fsid

        configs = []
        for name in names:
            config = host_config.current_config(ctx, name)
            assert config is not None and config.ceph is not None
            daemons = config.ceph.daemons
            assert daemons is not None
            assert (config.ceph.fsid, daemons.monitor) == (fsid, name)
            assert [m.name for m in daemons.monitors] == names
            assert len(daemons.osds) == 1  # one OSD per storage host (the controllers)
            assert (daemons.pool_size, daemons.pool_min_size) == ((1, 1) if count == 1 else (2, 1))
            assert daemons.public_network == "127.0.0.0/8"
            configs.append(config)
        assert len({c.ceph.daemons.osds[0].id for c in configs}) == count  # type: ignore[union-attr]
        # A worker holds no OSD here: it gets the monitors and no key at all.
        worker = host_config.current_config(ctx, "worker-0")
        assert worker is not None and worker.ceph is not None
        assert (worker.ceph.daemons, worker.ceph.keyring, worker.ceph.fsid) == (None, None, fsid)
        keys = keys_in(configs)
        assert len(keys) == 2 + count  # mon., client.admin, each OSD's
        # A configuration that gets logged shows no key.
        assert not any(k in repr(c) for c in configs for k in keys)
        # Each OSD's key goes to its own host only.
        for config in configs:
            others = {o.secret for c in configs if c is not config for o in c.ceph.daemons.osds}  # type: ignore[union-attr]
            assert not others & set(config.model_dump_json().split('"'))
        # The keys are kept encrypted.
        with stack.db.read_session() as s:
            stored = s.scalars(select(StorageBackend)).one()
            assert stored.cluster_keys is not None
            assert not any(k in stored.cluster_keys for k in keys)

        # The audit before the daemons run: the cluster does not answer, still configuring.
        assert storage_backends.audit_formation(ctx) == "configuring"

        nodes = [Node(tmp_path / c.hostname, c) for c in configs]
        commands = start_daemons(nodes)
        for node in nodes:
            for path in ("var/lib/ceph/bootstrap-mon/ceph.mon.keyring",
                         "etc/ceph/ceph.client.admin.keyring",
                         f"var/lib/ceph/osd/ceph-{node.config.ceph.daemons.osds[0].id}/keyring"):  # type: ignore[union-attr]  # fmt: skip
                assert (node.root / path).stat().st_mode & 0o777 == 0o600, path
            recorded = commands[node.config.hostname]
            assert not any(k in " ".join(" ".join(c) for c in recorded) for k in keys)
        wait_for(
            "not healthy",
            lambda st: (
                st.get("health", {}).get("status") == "HEALTH_OK"
                and st.get("osdmap", {}).get("num_up_osds") == count
            ),
            nodes,
        )

        # The audit finds the cluster answering and configures the backend in it.
        assert storage_backends.audit_formation(ctx) == "configured"
        r = stack.client.get("/v1/storage_backend/ceph-store")
        answers.append(r.text)
        shown = r.json()
        assert (shown["state"], shown["reason"], shown["fsid"]) == ("configured", None, fsid)
        size, min_size = (1, 1) if count == 1 else (2, 1)
        assert shown["capabilities"] == {"replication": str(size), "min_replication": str(min_size)}
        assert shown["health"] in ("HEALTH_OK", "HEALTH_WARN")  # a new pool may warn briefly
        first = nodes[0]
        pool = ceph_json(first, "osd", "pool", "get", POOL, "all")
        assert (pool["size"], pool["min_size"], pool["pg_autoscale_mode"]) == (size, min_size, "on")
        user = ceph_json(first, "auth", "get", "client.kube")[0]  # type: ignore[index]
        assert user["caps"] == {"mon": "profile rbd", "osd": f"profile rbd pool={POOL}"}
        assert secrets_of(kube_cluster) == dict.fromkeys(NAMESPACES, user["key"])
        # The provisioner's key works in this cluster: rbd in its pool, nothing elsewhere.
        keyring = first.root / "etc/ceph/ceph.client.admin.keyring"
        admin = CephTarget(monitors=tuple(row["monitors"]), keyring_path=keyring)
        with connect(admin, SETTINGS) as ceph:
            pools.ensure_pool(ceph, "other", pools.replication_for(count), "rbd")
        assert_key_confined_to(row["monitors"], "kube", user["key"], POOL, "other")
        wait_for("PGs not clean", all_clean, nodes, timeout=120)
        assert storage_backends.audit_health(ctx) == "HEALTH_OK"

        answers.append(stack.client.get("/v1/storage_backend").text)
        answers += [stack.client.get(f"/v1/ihosts/{n}").text for n in (*names, "worker-0")]
        for text in (*answers, caplog.text):
            assert not any(k in text for k in keys)
    finally:
        for row in stack.client.get("/v1/storage_backend").json()["storage_backends"]:
            r = stack.client.delete(f"/v1/storage_backend/{row['uuid']}")
            assert r.status_code == 204, r.text
        for node in nodes:
            node.stop()
        with stack.db.session() as s:
            s.execute(delete(Host))
    assert secrets_of(kube_cluster) == {}


def test_adding_a_formed_backend_needs_a_controller_with_an_address(stack: Stack) -> None:
    stack.add_host("worker-0", "worker", mgmt_ip="127.0.0.9")
    try:
        r = stack.client.post("/v1/storage_backend", json={"backend": "ceph"})
        assert r.status_code == 400
        assert "needs a controller with a management address" in r.json()["error_message"]
        assert stack.client.get("/v1/storage_backend").json()["storage_backends"] == []
    finally:
        with stack.db.session() as s:
            s.execute(delete(Host))


def test_a_cluster_that_never_answers_fails_after_the_bounded_wait(stack: Stack) -> None:
    ctx = stack.conductor.ctx
    ctx.settings.ceph.mon_port = free_port()
    stack.add_host("controller-0", "controller", mgmt_ip="127.0.0.1")
    original = ctx.settings.ceph.form_timeout
    try:
        row = stack.client.post("/v1/storage_backend", json={"backend": "ceph"}).json()
        assert row["state"] == "configuring"
        r = stack.client.delete(f"/v1/storage_backend/{row['uuid']}")
        assert r.status_code == 400 and "being configured" in r.text
        ctx.settings.ceph.form_timeout = 0.5
        time.sleep(0.6)
        assert storage_backends.audit_formation(ctx) == "failed"
        shown = stack.client.get(f"/v1/storage_backend/{row['uuid']}").json()
        assert shown["state"] == "failed"
        assert shown["reason"].startswith("the platform's Ceph cluster did not answer within 0.5 s")
        assert f"127.0.0.1:{ctx.settings.ceph.mon_port}" in shown["reason"]
        # Retried as StarlingX does it (a modify with no change): configuring again.
        ctx.settings.ceph.form_timeout = original
        r = stack.client.patch(f"/v1/storage_backend/{row['uuid']}", json=[])
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "configuring"
        ctx.settings.ceph.form_timeout = 0.5
        time.sleep(0.6)
        assert storage_backends.audit_formation(ctx) == "failed"
        # A second add does not replace it: modify retries it.
        r = stack.client.post("/v1/storage_backend", json={"backend": "ceph"})
        assert r.status_code == 400
        assert "use storage-backend-modify to retry it" in r.json()["error_message"]
    finally:
        ctx.settings.ceph.form_timeout = original
        for b in stack.client.get("/v1/storage_backend").json()["storage_backends"]:
            assert stack.client.delete(f"/v1/storage_backend/{b['uuid']}").status_code == 204
        with stack.db.session() as s:
            s.execute(delete(Host))


def test_a_standard_system_keeps_osds_on_storage_hosts_and_a_new_one_gets_its_own(
    stack: Stack,
) -> None:
    """Monitors on the controllers, OSDs on the storage hosts; a storage host added later
    gets an OSD (and its key) at the next audit, the others keep theirs."""
    ctx = stack.conductor.ctx
    ctx.settings.ceph.mon_port = free_port()
    with stack.db.session() as s:
        system = s.scalars(select(System)).one()
        original = system.system_type
        system.system_type = "Standard"
    try:
        stack.add_host("controller-0", "controller", mgmt_ip="127.0.0.1")
        stack.add_host("controller-1", "controller", mgmt_ip="127.0.0.2")
        r = stack.client.post("/v1/storage_backend", json={"backend": "ceph"})
        assert r.status_code == 400
        assert "needs a storage host for its OSDs" in r.json()["error_message"]
        stack.add_host("storage-0", "storage", mgmt_ip="127.0.0.3")
        row = stack.client.post("/v1/storage_backend", json={"backend": "ceph"}).json()
        assert row["state"] == "configuring"

        def daemons(name: str) -> Any:
            # As the host audit would: a host-add whose conductor call timed out on this
            # loaded machine has no configuration target yet.
            host_config.refresh(ctx, push=False)
            config = host_config.current_config(ctx, name)
            assert config is not None and config.ceph is not None
            return config.ceph.daemons

        c0, c1, s0 = daemons("controller-0"), daemons("controller-1"), daemons("storage-0")
        assert (c0.monitor, c0.osds, c1.monitor, c1.osds) == (
            "controller-0",
            [],
            "controller-1",
            [],
        )
        assert s0.monitor is None and s0.mon_keyring is None
        assert [o.id for o in s0.osds] == [0]
        assert (s0.pool_size, s0.pool_min_size) == (1, 1)

        stack.add_host("storage-1", "storage", mgmt_ip="127.0.0.4")
        assert daemons("storage-1") is None  # not a member until the audit says so
        assert storage_backends.audit_formation(ctx) == "configuring"
        s0_again, s1 = daemons("storage-0"), daemons("storage-1")
        assert [o.id for o in s1.osds] == [1] and s1.monitor is None
        assert s0_again.osds == s0.osds  # the same id, uuid and key
        assert s1.osds[0].secret != s0.osds[0].secret
        assert (s1.pool_size, s1.pool_min_size) == (2, 1)
        assert [m.name for m in s1.monitors] == ["controller-0", "controller-1"]
    finally:
        for b in stack.client.get("/v1/storage_backend").json()["storage_backends"]:
            with stack.db.session() as s:  # never answered: fail it so it can be deleted
                storage_states.transition(
                    s, s.scalars(select(StorageBackend)).one().id,
                    BackendState.CONFIGURING, BackendState.FAILED, reason="test over",
                )  # fmt: skip
            assert stack.client.delete(f"/v1/storage_backend/{b['uuid']}").status_code == 204
        with stack.db.session() as s:
            s.execute(delete(Host))
            s.scalars(select(System)).one().system_type = original


def test_a_deleted_storage_hosts_osd_leaves_the_cluster_and_the_last_one_stays(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A standard system: the monitor on controller-0, an OSD on each of two storage
    hosts, run by real daemons. Deleting storage-1 takes its OSD out of the cluster: out
    while its daemon still runs, purged (id, CRUSH position, key) once it stopped; the
    replication follows the one host left. storage-1's agent, given the configuration the
    delete sends it, stops that daemon. storage-0, holding the last OSD, cannot be
    deleted while the backend exists, nor can controller-0, its monitor."""
    ctx = stack.conductor.ctx
    ctx.settings.ceph.mon_port, ctx.settings.ceph.mon_v2_port = free_port(), free_port()
    with stack.db.session() as s:
        system = s.scalars(select(System)).one()
        original = system.system_type
        system.system_type = "Standard"
    nodes: list[Node] = []
    try:
        c0 = stack.add_host("controller-0", "controller", mgmt_ip="127.0.0.1")
        storage = [stack.add_host(f"storage-{i}", "storage", mgmt_ip=f"127.0.0.{i + 2}")
                   for i in (0, 1)]  # fmt: skip
        r = stack.client.post("/v1/storage_backend", json={"backend": "ceph"})
        assert r.status_code == 200, r.text
        host_config.refresh(ctx, push=False)
        configs = [host_config.current_config(ctx, n)
                   for n in ("controller-0", "storage-0", "storage-1")]  # fmt: skip
        # A short root: a daemon's admin socket path (which `ceph tell` needs) must fit
        # in 107 bytes, and this test's name alone would take a third of them.
        root = tmp_path_factory.mktemp("osd")
        nodes = [Node(root / c.hostname, c) for c in configs if c is not None]
        start_daemons(nodes)
        up = wait_for("two OSDs not up", lambda st: st.get("osdmap", {}).get("num_up_osds") == 2,
                      nodes)  # fmt: skip
        assert up["osdmap"]["num_osds"] == 2
        assert storage_backends.audit_formation(ctx) == "configured"
        controller, storage0, storage1 = nodes

        with stack.db.read_session() as s:  # what the delete sends storage-1's agent
            leaving = host_config.leave_config(s, s.get_one(Host, storage[1]["id"]))
        r = stack.client.delete(f"/v1/ihosts/{storage[1]['uuid']}")
        assert r.status_code == 204, r.text
        # storage-0's configuration now keeps one copy; storage-1's OSD key went with it.
        s0 = host_config.current_config(ctx, "storage-0")
        assert s0 is not None and s0.ceph is not None and s0.ceph.daemons is not None
        assert (s0.ceph.daemons.pool_size, s0.ceph.daemons.pool_min_size) == (1, 1)
        with stack.db.read_session() as s:
            row = s.scalars(select(StorageBackend)).one()
            assert row.cluster is not None
            assert [o["id"] for o in row.cluster["osds"]] == [0]
            assert row.cluster["leaving"] == [1]
            assert "osd.1" not in json.loads(ctx.secrets.fernet.decrypt(row.cluster_keys or ""))

        # Its daemon still runs: out, not purged.
        assert storage_backends.audit_formation(ctx) == "configured"
        osd1 = [o for o in ceph_json(controller, "osd", "dump")["osds"] if o["osd"] == 1]  # type: ignore[attr-defined]
        assert [(o["up"], o["in"]) for o in osd1] == [(1, 0)]
        # Its agent stops the OSD: the leaving configuration, run as the node would.
        stop = CephConfigurator().apply(HostConfig.model_validate(leaving), storage1.ctx)
        assert stop.ok and stop.commands == [["systemctl", "disable", "--now", "ceph-osd@1"]]
        for argv in stop.commands:
            storage1.run(argv)
        assert storage1.daemons == []
        wait_for("osd.1 not down", lambda st: st.get("osdmap", {}).get("num_up_osds") == 1,
                 [controller, storage0])  # fmt: skip
        assert storage_backends.audit_formation(ctx) == "configured"
        assert ceph_json(controller, "osd", "ls") == [0]
        assert ceph_json(controller, "auth", "get", "osd.1") == {}  # its key is gone
        tree = ceph_json(controller, "osd", "tree")
        assert [n["name"] for n in tree["nodes"] if n["type"] == "osd"] == ["osd.0"]  # type: ignore[index]
        with stack.db.read_session() as s:
            row = s.scalars(select(StorageBackend)).one()
            assert row.cluster is not None and row.cluster["leaving"] == []
        assert storage_backends.audit_health(ctx) in ("HEALTH_OK", "HEALTH_WARN")
        pool = ceph_json(controller, "osd", "pool", "get", POOL, "all")
        assert (pool["size"], pool["min_size"]) == (1, 1)
        # Every PG clean on the one OSD left, the manager's pool's too, and nothing to warn
        # of: the running manager took the new default size (its ceph.conf still says 2),
        # so no TOO_FEW_OSDS once it reports again.
        assert "osd pool default size = 2" in Path(controller.conf).read_text()
        wait_for("PGs not clean on one OSD, or health not OK",
                 lambda st: clean_pgs(st) and not st["health"].get("checks"),
                 [controller, storage0], timeout=120)  # fmt: skip
        for name in ceph_json(controller, "osd", "pool", "ls"):  # type: ignore[attr-defined]
            got = ceph_json(controller, "osd", "pool", "get", name, "all")
            assert (got["size"], got["min_size"]) == (1, 1), name

        # The last OSD's host stays while the backend keeps data on it.
        r = stack.client.delete(f"/v1/ihosts/{storage[0]['uuid']}")
        assert r.status_code == 400
        assert "holds the last OSDs of the platform's Ceph cluster" in r.json()["error_message"]
        assert stack.client.get(f"/v1/ihosts/{storage[0]['uuid']}").status_code == 200
        # So does the controller: the cluster's only monitor would go with it.
        r = stack.client.delete(f"/v1/ihosts/{c0['uuid']}")
        assert r.status_code == 400
        assert "runs its only monitor of the platform's Ceph cluster" in r.json()["error_message"]
        assert stack.client.get(f"/v1/ihosts/{c0['uuid']}").status_code == 200
        assert storage_backends.audit_formation(ctx) == "configured"
    finally:
        for b in stack.client.get("/v1/storage_backend").json()["storage_backends"]:
            assert stack.client.delete(f"/v1/storage_backend/{b['uuid']}").status_code == 204
        for node in nodes:
            node.stop()
        with stack.db.session() as s:
            s.execute(delete(Host))
            s.scalars(select(System)).one().system_type = original
