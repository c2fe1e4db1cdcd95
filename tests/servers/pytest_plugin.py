"""pytest fixtures for the throwaway servers.

- ``kube_cluster`` (session): a real control plane with kwok nodes controller-0,
  controller-1, worker-0 and worker-1; ``SYSINV_TEST_KUBECONFIG`` reuses a cluster kept up
  by ``python -m tests.servers up kube`` instead of starting one. Its kube-apiserver asks
  a token webhook at ``.webhook_url`` (port ``.webhook_port``), which a test serves with
  ``.webhook_cert_file``/``.webhook_key_file``, trusted through ``.webhook_ca_file``.
- ``helm3``, ``helm4`` (session), ``helm`` (both, parametrized), ``helm_home`` (per test).
- ``postgres_url`` (session) and ``postgres_db_url`` (a fresh database per test module).
- ``redis_server`` (session; ``down()`` and ``up()`` restart it on the same port) and
  ``redis_url``, its URL.
- ``keystone`` (session): a real Keystone with seeded users; ``.url``, the credentials
  ``.admin``, ``.service``, ``.reader``, ``.other`` and ``.token(cred)``.
- ``horizon`` (session): OpenStack Horizon with sysinv's dashboard plugin, logging in
  against ``keystone``; ``.url``, ``.login(username, password)`` (an HTTP client).
- ``local_registry`` (session): the platform's registry (docker-registry 2.8), token
  authentication with sysinv's token endpoint as realm, trusting a key sysinv made;
  ``registry_token_api`` (session): the ``sysinv-api`` serving those tokens against
  ``keystone``; ``public_registry`` (session): a registry without authentication.
- ``docker_daemon`` (session): a real ``dockerd`` with its own data root and socket.
- ``ceph_cluster`` (session): a real Ceph (one monitor, manager and memstore OSD, cephx);
  ``.add_osd()`` adds an OSD. Tests give themselves their own pools.

A component that cannot be had fails the fixture with its name: nothing is skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import procs, secrets_seen
from tests.servers.ceph import CephCluster
from tests.servers.docker import DockerDaemon
from tests.servers.helm import HelmBinary, helm_binary
from tests.servers.horizon import HorizonServer
from tests.servers.keystone import KeystoneServer
from tests.servers.kube import INITIAL_NODES, KubeCluster, start_kube_cluster, webhook_port_of
from tests.servers.postgres import PostgresServer
from tests.servers.redis import RedisServer
from tests.servers.registry import LocalRegistry, RegistryServer, TokenApi


class ExternalCluster(KubeCluster):
    """A cluster someone keeps up (``python -m tests.servers up kube``); never stopped here."""

    def __init__(self, kubeconfig: Path) -> None:
        super().__init__(workdir=kubeconfig.parent)
        self.kubeconfig = kubeconfig
        self.ca_file = kubeconfig.parent / "pki" / "ca.crt"
        self.server = str(self.api_client().configuration.host)
        self.node_names = [n.metadata.name for n in self.core_v1().list_node().items]
        self.webhook_port = webhook_port_of(self.webhook_kubeconfig)
        self.webhook_url = f"https://127.0.0.1:{self.webhook_port}/webhook"
        self.webhook_ca_file = self.ca_file

    def kubeconfig_for(self, user: str, groups: list[str] | None = None) -> Path:
        from tests.servers.pki import CertificateAuthority

        if self.ca is None:
            self.ca = CertificateAuthority.load(self.pki)
        return super().kubeconfig_for(user, groups)

    def stop(self) -> None:
        pass


@pytest.fixture(scope="session")
def kube_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeCluster]:
    external = os.environ.get("SYSINV_TEST_KUBECONFIG")
    if external:
        if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
            # Its nodes, CRDs and webhook port would be every worker's at once.
            pytest.fail("SYSINV_TEST_KUBECONFIG serves one test process: run without -n")
        yield ExternalCluster(Path(external))
        return
    procs.install_cleanup()
    cluster = start_kube_cluster(INITIAL_NODES)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def helm3() -> HelmBinary:
    return helm_binary(3)


@pytest.fixture(scope="session")
def helm4() -> HelmBinary:
    return helm_binary(4)


@pytest.fixture(params=[3, 4], ids=["helm3", "helm4"])
def helm(request: pytest.FixtureRequest) -> HelmBinary:
    fixture: HelmBinary = request.getfixturevalue(f"helm{request.param}")
    return fixture


@pytest.fixture
def helm_home(tmp_path: Path) -> Path:
    home = tmp_path / "helm-home"
    home.mkdir()
    return home


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    procs.install_cleanup()
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.admin_url


@pytest.fixture(scope="module")
def postgres_db_url(postgres_server: PostgresServer) -> Iterator[str]:
    name, url = postgres_server.create_database()
    try:
        yield url
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    procs.install_cleanup()
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture(scope="session")
def keystone() -> Iterator[KeystoneServer]:
    procs.install_cleanup()
    server = KeystoneServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def horizon(keystone: KeystoneServer) -> Iterator[HorizonServer]:
    procs.install_cleanup()
    server = HorizonServer(keystone.url).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def local_registry() -> Iterator[LocalRegistry]:
    procs.install_cleanup()
    registry = LocalRegistry().start()
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def registry_token_api(
    local_registry: LocalRegistry,
    keystone: KeystoneServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TokenApi]:
    base = tmp_path_factory.mktemp("registry-token-api")
    api = TokenApi(local_registry, keystone.sysinv_env(), base).start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture(scope="session")
def public_registry() -> Iterator[RegistryServer]:
    procs.install_cleanup()
    registry = RegistryServer("public-registry").start()
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def docker_daemon() -> Iterator[DockerDaemon]:
    procs.install_cleanup()
    daemon = DockerDaemon().start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def ceph_cluster() -> Iterator[CephCluster]:
    procs.install_cleanup()
    cluster = CephCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-secret-scan",
        action="store_true",
        help="fail the run when its log scan looked for no secret at all (a whole run, as "
        "scripts/test makes, always creates some)",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    base = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    secrets_seen.capture_run_log(base)
    secrets_seen.remember_generated_secrets()


#: What each pytest-xdist worker left to report, gathered by the controlling process.
_WORKER_ENDINGS: list[dict[str, Any]] = []


def _ending(session: pytest.Session) -> dict[str, Any]:
    """This process's leaked servers (stopped now) and its scan of the logs it wrote."""
    leaked = [f"{p.name} (pid {p.pid})" for p in procs.LIVE.values()]
    leaked += [type(s).__name__ for s in procs.SERVERS]
    if leaked:
        procs.stop_all()
    base = session.config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    scan = secrets_seen.scan_run(base)
    return {"leaked": leaked, "secrets": scan.secrets, "files": scan.files, "found": scan.found}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker finished; keep what its ``pytest_sessionfinish`` left."""
    ending = getattr(node, "workeroutput", {}).get("sysinv_ending")
    if ending is None:  # it crashed: its servers were not checked nor its logs scanned
        name = getattr(getattr(node, "gateway", None), "id", "a worker")
        ending = {"lost": name, "leaked": [], "secrets": 0, "files": 0, "found": []}
    _WORKER_ENDINGS.append(ending)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Session fixtures are finalized before this hook (with the last test's teardown), so
    # every server has stopped and flushed its logs: anything still running leaked.
    config = session.config
    ending = _ending(session)
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller reports
        workeroutput["sysinv_ending"] = ending
        return
    endings = [ending, *_WORKER_ENDINGS]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line
    write("")  # xdist's progress line may still be open
    lost = [e["lost"] for e in endings if e.get("lost")]
    if lost:
        write(f"{', '.join(lost)} ended without its report: servers and logs unchecked", red=True)
        session.exitstatus = 1
    leaked = [name for e in endings for name in e["leaked"]]
    if leaked:
        write(f"LEAKED test servers were still running and have been stopped: {leaked}", red=True)
        session.exitstatus = 1
    secrets = sum(e["secrets"] for e in endings)
    files = sum(e["files"] for e in endings)
    found = [line for e in endings for line in e["found"]]
    if found:
        write(
            "LOG SCAN failed (secrets in the logs, or a log missing):\n" + "\n".join(found[:50]),
            red=True,
        )
        session.exitstatus = 1
    elif secrets:
        write(f"log scan: none of the run's {secrets} secrets in its {files} log files")
    elif config.getoption("require_secret_scan"):
        write("the log scan had no secret to look for (--require-secret-scan)", red=True)
        session.exitstatus = 1
