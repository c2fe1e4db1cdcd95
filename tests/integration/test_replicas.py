"""Two API replicas and two conductors that share only PostgreSQL and Redis.

Each process runs in a mount namespace of its own where the other processes' data
directories are hidden under an empty tmpfs, as on separate hosts: an upload accepted by
one API is applied through the other by a conductor that never saw the bundle's bytes on
any disk, and a conductor killed mid-apply is taken over by the other one's audit.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from sysinv_common.conf import Settings
from sysinv_common.db.models import App
from sysinv_common.db.prepare import prepare_database
from tests.integration.example_app import build_variant
from tests.integration.test_apps_interrupted import conductor_env, helm_releases, wait_for
from tests.integration.test_apps_lifecycle import upload_body
from tests.servers.helm import HelmBinary
from tests.servers.ports import free_port, wait_port
from tests.stack import make_settings

pytestmark = pytest.mark.kube
BIN = Path(sys.executable).parent
ROLES = ("api-1", "api-2", "cond-1", "cond-2")


class Host:
    """One sysinv process alone on its 'host': its data directory is the only one of the
    four it can see."""

    def __init__(self, root: Path, role: str, settings: Settings, **env: str) -> None:
        self.role = role
        self.dir = root / role
        self.log = root / f"{role}.log"
        hide = " ".join(
            f"mount -t tmpfs -o size=1m,mode=0700 none {shlex.quote(str(root / other))};"
            for other in ROLES
            if other != role
        )
        command = "sysinv-api" if role.startswith("api") else "sysinv-conductor"
        script = f"{hide} exec {shlex.quote(str(BIN / command))}"
        environment = {
            **conductor_env(settings, role),
            "TMPDIR": str(self.dir / "tmp"),
            "SYSINV_STATE_DIR": str(self.dir),
            **env,
        }
        (self.dir / "tmp").mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            env=environment, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_db_url: str, redis_url: str, kube_cluster: Any, helm4: HelmBinary
) -> Iterator[tuple[Settings, dict[str, Host], Path]]:
    settings = make_settings(tmp_path / "unused", postgres_db_url)
    settings.messaging.broker_url = redis_url
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm4.path)
    prepare_database(settings).dispose()
    root = tmp_path / "hosts"
    for role in ROLES:
        (root / role).mkdir(parents=True)
    hosts: dict[str, Host] = {}
    try:
        yield settings, hosts, root
    finally:
        for host in hosts.values():
            host.stop()


def _api(settings: Settings, hosts: dict[str, Host], root: Path, role: str) -> str:
    port = free_port()
    hosts[role] = Host(root, role, settings, SYSINV_API__PORT=str(port), SYSINV_API__AUTH="none")
    wait_port(port, 60, role)
    return f"http://127.0.0.1:{port}"


def _conductor(
    settings: Settings, hosts: dict[str, Host], root: Path, role: str, **env: str
) -> Host:
    host = Host(root, role, settings, **env)
    hosts[role] = host
    return host


def _app(base: str) -> dict[str, Any]:
    return httpx.get(f"{base}/v1/apps/hello-app", timeout=10).json()  # type: ignore[no-any-return]


def test_upload_on_one_api_apply_through_the_other_on_another_conductor(
    cluster: tuple[Settings, dict[str, Host], Path], helm4: HelmBinary, helm_home: Path,
    kube_cluster: Any, tmp_path: Path,
) -> None:  # fmt: skip
    settings, hosts, root = cluster
    ns = f"rep-{uuid.uuid4().hex[:6]}"
    bundle = build_variant(helm4, tmp_path, ns)
    api1 = _api(settings, hosts, root, "api-1")
    api2 = _api(settings, hosts, root, "api-2")
    _conductor(settings, hosts, root, "cond-1")

    r = httpx.post(f"{api1}/v1/apps", json=upload_body(bundle), timeout=60)
    assert r.status_code == 200, r.text
    app = wait_for(lambda: _app(api2), lambda a: a["status"] != "uploading", 120, "upload")
    assert app["status"] == "uploaded", app
    # Neither API kept the bundle on its disk; cond-1 extracted its own copy.
    for api in ("api-1", "api-2"):
        assert not list((root / api).rglob("*.tgz")), api
    assert (root / "cond-1" / "apps" / "hello-app").is_dir()

    # cond-1 goes away; cond-2 has never seen the bundle, and cannot see cond-1's disk.
    hosts["cond-1"].stop()
    _conductor(settings, hosts, root, "cond-2")
    r = httpx.patch(f"{api2}/v1/apps/hello-app?directive=apply", json={"values": {}}, timeout=90)
    assert r.status_code == 200, r.text
    app = wait_for(lambda: _app(api1), lambda a: a["status"] != "applying", 240, "apply")
    assert app["status"] == "applied", (app, hosts["cond-2"].log.read_text()[-3000:])
    assert (root / "cond-2" / "apps" / "hello-app").is_dir()
    releases = helm_releases(helm4, kube_cluster.kubeconfig, helm_home, ns)
    assert releases and all(r["status"] == "deployed" for r in releases), releases

    r = httpx.patch(f"{api1}/v1/apps/hello-app?directive=remove", json={"values": {}}, timeout=30)
    assert r.status_code == 200, r.text
    app = wait_for(lambda: _app(api2), lambda a: a["status"] != "removing", 180, "remove")
    assert app["status"] == "uploaded", app
    assert httpx.delete(f"{api2}/v1/apps/hello-app", timeout=30).status_code == 204


def test_a_killed_conductors_apply_is_taken_over_by_the_other(
    cluster: tuple[Settings, dict[str, Host], Path], helm4: HelmBinary, helm_home: Path,
    kube_cluster: Any, tmp_path: Path,
) -> None:  # fmt: skip
    settings, hosts, root = cluster
    ns = f"tko-{uuid.uuid4().hex[:6]}"
    bundle = build_variant(helm4, tmp_path, ns, stuck=True)
    lease, audit = 8.0, 2.0
    timing = {"SYSINV_APPS__LEASE_SECONDS": str(lease), "SYSINV_APPS__AUDIT_INTERVAL": str(audit)}
    api = _api(settings, hosts, root, "api-1")
    _conductor(settings, hosts, root, "cond-1", **timing)
    assert httpx.post(f"{api}/v1/apps", json=upload_body(bundle), timeout=60).status_code == 200
    wait_for(lambda: _app(api), lambda a: a["status"] == "uploaded", 120, "upload")
    r = httpx.patch(f"{api}/v1/apps/hello-app?directive=apply", json={"values": {}}, timeout=90)
    assert r.status_code == 200, r.text
    wait_for(lambda: _app(api), lambda a: "hello-web" in (a["progress"] or ""), 90, "hello-web")

    db = prepare_database(settings)
    try:
        with db.session() as s:
            holder = s.scalar(select(App.lease_holder).where(App.name == "hello-app"))
        assert holder == "cond-1"
        _conductor(settings, hosts, root, "cond-2", **timing)
        time.sleep(3)  # cond-2 is up, and must leave a live conductor's apply alone
        assert _app(api)["status"] == "applying"

        upgrade = ["pgrep", "-f", f"helm upgrade --install \\S+-{ns} "]
        assert subprocess.run(upgrade, capture_output=True).returncode == 0  # helm is running
        hosts["cond-1"].stop(signal.SIGKILL)
        killed = time.monotonic()
        # Its helm died with it (no orphan rewriting the release beside the recovery).
        while subprocess.run(upgrade, capture_output=True).returncode == 0:
            assert time.monotonic() - killed < 5, "cond-1's helm outlived it"
            time.sleep(0.1)
        app = wait_for(lambda: _app(api), lambda a: a["status"] != "applying", 60, "takeover")
        # Within the lease plus one audit interval (and a little for the polling).
        assert time.monotonic() - killed <= lease + audit + 5
        assert app["status"] == "apply-failed", app
        assert "lease expired" in app["progress"]
        wait_for(
            lambda: helm_releases(helm4, kube_cluster.kubeconfig, helm_home, ns),
            lambda rs: not any(r["status"].startswith("pending") for r in rs), 90,
            "no release left pending",
        )  # fmt: skip
        log = hosts["cond-2"].log.read_text()
        assert "operation aborted" in log
    finally:
        db.dispose()
