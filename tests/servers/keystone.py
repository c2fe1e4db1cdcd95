"""A throwaway OpenStack Keystone (SQLite, fernet tokens) with the users sysinv's tests need.

Keystone runs from its own virtualenv in the test cache (``python -m tests.servers
build``); ``keystone_serve.py`` sets it up and serves it on a free loopback port. The seed
data is then made through Keystone's own REST API:

- project ``admin``: user ``admin`` with role ``admin`` (from bootstrap; also system admin)
- project ``services``: user ``sysinv`` with role ``admin`` (the service user)
- project ``demo``: user ``reader-user`` with role ``reader``, member of group ``operators``
- project ``other``: user ``other-member`` with role ``member``

Passwords are random and kept on the server object; only ``up keystone`` prints them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.servers import cache, procs, secrets_seen
from tests.servers.ports import free_port
from tests.servers.procs import ManagedProcess

SERVE_SCRIPT = Path(__file__).with_name("keystone_serve.py")
REGION = "RegionOne"
OPERATORS_GROUP = "operators"


@dataclass(frozen=True)
class KeystoneCredential:
    username: str
    password: str = field(repr=False)
    project_name: str
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"

    def auth_body(self) -> dict[str, Any]:
        """A POST /v3/auth/tokens body: password method, scoped to the project."""
        return {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": self.username,
                            "domain": {"name": self.user_domain_name},
                            "password": self.password,
                        }
                    },
                },
                "scope": {
                    "project": {
                        "name": self.project_name,
                        "domain": {"name": self.project_domain_name},
                    }
                },
            }
        }


def _password() -> str:
    return secrets.token_urlsafe(18)


def _config(base: Path) -> str:
    return f"""\
[DEFAULT]
# No log_file: oslo.log then writes to stderr, which is keystone.log.

[database]
connection = sqlite:///{base}/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = {base}/fernet-keys

[fernet_receipts]
# Never the default /etc/keystone/fernet-keys/ of the machine.
key_repository = {base}/fernet-keys

[credential]
key_repository = {base}/credential-keys

[identity]
# bcrypt's minimum: every password check (each token) is otherwise ~0.25 s of CPU.
# Set before bootstrap, which hashes the admin password with it.
password_hash_rounds = 4

[cache]
enabled = true
backend = dogpile.cache.memory
"""


class KeystoneServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="sysinv-keystone-"))
        self.proc: ManagedProcess | None = None
        self.start_seconds = 0.0
        self.admin = KeystoneCredential("admin", _password(), "admin")
        self.service = KeystoneCredential("sysinv", _password(), "services")
        self.reader = KeystoneCredential("reader-user", _password(), "demo")
        self.other = KeystoneCredential("other-member", _password(), "other")
        # Keystone's member implies reader: this user's only role implies nothing.
        self.outsider = KeystoneCredential("outsider", _password(), "elsewhere")
        for cred in (self.admin, self.service, self.reader, self.other, self.outsider):
            secrets_seen.remember(cred.password)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    def start(self) -> KeystoneServer:
        python = cache.keystone_python()
        if not cache.keystone_ready():
            raise RuntimeError(
                f"keystone {cache.KEYSTONE_VERSION} is not in the test cache ({python}); "
                "run `python -m tests.servers build`"
            )
        started = time.monotonic()
        procs.register(self)
        try:
            config = self.base / "keystone.conf"
            config.write_text(_config(self.base))
            env = dict(os.environ, KEYSTONE_BOOTSTRAP_PASSWORD=self.admin.password)
            self.proc = ManagedProcess(
                "keystone",
                # -I: the script's directory (with this keystone.py) must not shadow the
                # keystone package, nor PYTHONPATH bring in the project's packages.
                [str(python), "-I", str(SERVE_SCRIPT), str(config), str(self.port)],
                self.base / "keystone.log",
                env=env,
                cwd=self.base,
            )
            self._wait_ready(60)
            self._seed()
        except BaseException:
            # A failed start leaves no process or directory behind.
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        print(
            f">> keystone on 127.0.0.1:{self.port} in {self.start_seconds:.1f} s",
            file=sys.stderr,
        )
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            self.proc.check_alive()
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"keystone did not answer GET {self.url} within {timeout:.0f} s:\n"
                    f"{self.proc.log_tail()}"
                )
            time.sleep(0.1)

    def sysinv_env(self) -> dict[str, str]:
        """The ``SYSINV_KEYSTONE__*`` settings of a sysinv process using this Keystone."""
        return {
            "SYSINV_KEYSTONE__AUTH_URL": self.url,
            "SYSINV_KEYSTONE__USERNAME": self.service.username,
            "SYSINV_KEYSTONE__PASSWORD": self.service.password,
            "SYSINV_KEYSTONE__PROJECT_NAME": self.service.project_name,
        }

    def token(self, cred: KeystoneCredential) -> str:
        """A project-scoped token for ``cred`` (the X-Subject-Token of POST /v3/auth/tokens)."""
        resp = httpx.post(f"{self.url}/auth/tokens", json=cred.auth_body(), timeout=30)
        _check(resp, f"token for {cred.username}")
        token = resp.headers["X-Subject-Token"]
        secrets_seen.remember(token)
        return token

    def _seed(self) -> None:
        with httpx.Client(
            base_url=self.url, headers={"X-Auth-Token": self.token(self.admin)}, timeout=30
        ) as client:
            roles = {r["name"]: r["id"] for r in _get(client, "/roles")["roles"]}
            # A global role (not of a domain), as Keystone's own roles are.
            made = client.post("/roles", json={"role": {"name": "observer"}})
            _check(made, "create role observer")
            roles["observer"] = made.json()["role"]["id"]
            for cred, role in ((self.service, "admin"), (self.reader, "reader"),
                               (self.other, "member"), (self.outsider, "observer")):  # fmt: skip
                project = _create(client, "project", {"name": cred.project_name})
                user = _create(
                    client,
                    "user",
                    {"name": cred.username, "password": cred.password,
                     "default_project_id": project},
                )  # fmt: skip
                _put(client, f"/projects/{project}/users/{user}/roles/{roles[role]}")
                if cred is self.reader:
                    group = _create(client, "group", {"name": OPERATORS_GROUP})
                    _put(client, f"/groups/{group}/users/{user}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        procs.unregister(self)


def _check(resp: httpx.Response, what: str) -> None:
    if resp.is_error:
        raise RuntimeError(
            f"keystone: {what}: {resp.request.method} {resp.request.url} answered "
            f"{resp.status_code}: {resp.text[:500]}"
        )


def _get(client: httpx.Client, path: str) -> Any:
    resp = client.get(path)
    _check(resp, f"GET {path}")
    return resp.json()


def _create(client: httpx.Client, kind: str, body: dict[str, Any]) -> str:
    resp = client.post(f"/{kind}s", json={kind: {"domain_id": "default", **body}})
    _check(resp, f"create {kind} {body['name']}")
    return str(resp.json()[kind]["id"])


def _put(client: httpx.Client, path: str) -> None:
    _check(client.put(path), f"PUT {path}")
