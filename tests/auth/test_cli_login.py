"""The ``system`` CLI logs in through Keystone as StarlingX's client does: openrc
variables, sysinv found in the catalog (``sysinv keystone-register``), one token per
command; every failure is one line and exit code 1."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import BIN, Aio, start_aio, stop_aio
from tests.servers.keystone import KeystoneCredential, KeystoneServer
from tests.servers.ports import free_port


def openrc(keystone: KeystoneServer, cred: KeystoneCredential, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "SYSTEM_URL"))}
    return {
        **env,
        "OS_AUTH_URL": keystone.url,
        "OS_USERNAME": cred.username,
        "OS_PASSWORD": cred.password,
        "OS_PROJECT_NAME": cred.project_name,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": "RegionOne",
        "OS_INTERFACE": "public",
        **extra,
    }


def run(command: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / command), *args], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def sysinv_env(keystone: KeystoneServer, aio_url: str | None = None) -> dict[str, str]:
    svc = keystone.service
    env = {
        "SYSINV_KEYSTONE__AUTH_URL": keystone.url,
        "SYSINV_KEYSTONE__USERNAME": svc.username,
        "SYSINV_KEYSTONE__PASSWORD": svc.password,
        "SYSINV_KEYSTONE__PROJECT_NAME": svc.project_name,
    }
    if aio_url:
        env["SYSINV_KEYSTONE__PUBLIC_URL"] = aio_url
    return env


@pytest.fixture(scope="module")
def secured_aio(
    keystone: KeystoneServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Aio]:
    data: Path = tmp_path_factory.mktemp("secured-aio") / "data"
    aio = start_aio(data, "--keystone-url", keystone.url, env=sysinv_env(keystone))
    try:
        yield aio
    finally:
        stop_aio(aio)


def test_register_then_log_in_from_openrc(secured_aio: Aio, keystone: KeystoneServer) -> None:
    admin = openrc(keystone, keystone.admin, **sysinv_env(keystone, secured_aio.url))
    first = run("sysinv", "keystone-register", env=admin)
    assert first.returncode == 0, first.stderr
    # The v1 root, as StarlingX registers it: its client appends /ihosts to the catalog URL.
    assert f"public endpoint {secured_aio.url}/v1 created" in first.stderr
    again = run("sysinv", "keystone-register", env=admin)
    assert again.returncode == 0 and "nothing changed" in again.stderr

    # The reader finds sysinv in the catalog and reads; writing is refused by the API.
    reader = openrc(keystone, keystone.reader)
    listed = run("system", "host-list", env=reader)
    assert listed.returncode == 0, listed.stderr
    refused = run("system", "host-add", "-n", "cli-w0", "-p", "worker", env=reader)
    assert refused.returncode == 1
    assert "reader role may only read" in refused.stderr
    added = run("system", "host-add", "-n", "cli-w0", "-p", "worker",
                env=openrc(keystone, keystone.admin))  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "cli-w0" in run("system", "host-list", env=reader).stdout

    # SYSTEM_URL with a token keeps working, without Keystone's catalog.
    token = keystone.token(keystone.admin)
    env = {**os.environ, "SYSTEM_URL": secured_aio.url, "OS_AUTH_TOKEN": token}
    direct = run("system", "host-show", "cli-w0", env=env)
    assert direct.returncode == 0, direct.stderr


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"OS_PASSWORD": "wrong"}, "refused the credentials of reader-user"),
        ({"OS_AUTH_URL": "http://127.0.0.1:{port}/v3"}, "Cannot reach Keystone at"),
        ({"OS_REGION_NAME": "Nowhere"}, "No 'platform' endpoint (public) in region Nowhere"),
        ({"OS_PASSWORD": ""}, "missing --os-password (env OS_PASSWORD)"),
    ],
)
def test_login_failures_are_one_line(
    secured_aio: Aio, keystone: KeystoneServer, change: dict[str, str], says: str
) -> None:
    env = openrc(keystone, keystone.reader)
    env.update({k: v.format(port=free_port()) for k, v in change.items()})
    result = run("system", "host-list", env=env)
    assert result.returncode == 1
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
