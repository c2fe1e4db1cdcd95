"""The Keystone test server: real tokens for each seeded user, roles and groups as seeded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import procs
from tests.servers.keystone import OPERATORS_GROUP, KeystoneCredential, KeystoneServer
from tests.servers.ports import port_open

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.keystone


def validate(keystone: KeystoneServer, admin_token: str, token: str) -> dict[str, Any]:
    resp = httpx.get(
        f"{keystone.url}/auth/tokens",
        headers={"X-Auth-Token": admin_token, "X-Subject-Token": token},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()["token"]
    return body


def test_start_time(keystone: KeystoneServer) -> None:
    print(f"keystone started in {keystone.start_seconds:.1f} s")
    assert keystone.url.startswith("http://127.0.0.1:")
    assert httpx.get(keystone.url, timeout=10).status_code == 200


@pytest.mark.parametrize("who", ["admin", "service", "reader", "other"])
def test_each_user_gets_a_token_that_validates(keystone: KeystoneServer, who: str) -> None:
    cred: KeystoneCredential = getattr(keystone, who)
    token = keystone.token(cred)
    body = validate(keystone, keystone.token(keystone.admin), token)
    assert body["user"]["name"] == cred.username
    assert body["project"]["name"] == cred.project_name


def test_roles_as_seeded(keystone: KeystoneServer) -> None:
    admin_token = keystone.token(keystone.admin)

    def roles(cred: KeystoneCredential) -> set[str]:
        return {r["name"] for r in validate(keystone, admin_token, keystone.token(cred))["roles"]}

    # Keystone's default roles imply each other: admin > manager > member > reader.
    assert "admin" in roles(keystone.admin)
    assert "admin" in roles(keystone.service)
    reader = roles(keystone.reader)
    assert "reader" in reader
    assert not reader & {"admin", "member", "manager"}
    other = roles(keystone.other)
    assert "member" in other
    assert "admin" not in other


def test_wrong_password_is_refused(keystone: KeystoneServer) -> None:
    cred = KeystoneCredential(keystone.reader.username, "not-the-password", "demo")
    resp = httpx.post(f"{keystone.url}/auth/tokens", json=cred.auth_body(), timeout=30)
    assert resp.status_code == 401


def test_operators_group_holds_the_reader(keystone: KeystoneServer) -> None:
    headers = {"X-Auth-Token": keystone.token(keystone.admin)}
    groups = httpx.get(
        f"{keystone.url}/groups", params={"name": OPERATORS_GROUP}, headers=headers, timeout=30
    ).json()["groups"]
    assert len(groups) == 1
    members = httpx.get(
        f"{keystone.url}/groups/{groups[0]['id']}/users", headers=headers, timeout=30
    ).json()["users"]
    assert [u["name"] for u in members] == [keystone.reader.username]


def test_passwords_stay_out_of_reprs(keystone: KeystoneServer) -> None:
    assert keystone.admin.password not in repr(keystone.admin)


def test_dash_password_and_stop_leaves_no_process_port_or_directory() -> None:
    server = KeystoneServer()
    # A random password may start with "-": bootstrap once took it for an option.
    server.admin = KeystoneCredential("admin", "-starts-with-a-dash", "admin")
    server.start()
    assert server.proc is not None
    pid = server.proc.pid
    assert procs.group_alive(pid) and port_open(server.port)
    assert server.token(server.admin)
    server.stop()
    assert not procs.group_alive(pid)
    assert not port_open(server.port)
    assert not server.base.exists()
    assert server not in procs.SERVERS and pid not in procs.LIVE


def test_up_keystone_prints_working_credentials_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.servers", "up", "keystone"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        env: dict[str, str] = {}
        for line in proc.stdout:
            if line.startswith("# Ctrl-C"):
                break
            if line.startswith("export "):
                name, _, value = line.removeprefix("export ").strip().partition("=")
                env[name] = value
        assert env["OS_USERNAME"] == "admin" and env["OS_REGION_NAME"] == "RegionOne"
        assert env["OS_IDENTITY_API_VERSION"] == "3"
        cred = KeystoneCredential(
            env["OS_USERNAME"], env["OS_PASSWORD"], env["OS_PROJECT_NAME"],
            env["OS_USER_DOMAIN_NAME"], env["OS_PROJECT_DOMAIN_NAME"],
        )  # fmt: skip
        url = env["OS_AUTH_URL"]
        resp = httpx.post(f"{url}/auth/tokens", json=cred.auth_body(), timeout=30)
        assert resp.status_code == 201, resp.text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert not port_open(int(url.rsplit(":", 1)[1].split("/")[0]))
    finally:
        if proc.poll() is None:
            proc.kill()
