"""A throwaway Docker registry: Debian's ``docker-registry`` (distribution 2.8) on a free
loopback port, its storage in its own private directory, deletes enabled.

Two kinds run in a test session:

- the platform's local registry, with token authentication (``TokenAuth``): clients get
  their bearer token from ``realm`` (sysinv's token endpoint) and the registry checks its
  signature against the certificate in ``rootcertbundle``;
- a registry without authentication, standing in for the public registries (docker.io,
  quay.io, ...) that application images come from.

Plain HTTP: Docker and skopeo treat ``127.0.0.1:<port>`` as an insecure registry by
themselves (skopeo needs ``--tls-verify=false``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.servers import procs
from tests.servers.ports import free_port, port_open
from tests.servers.procs import ManagedProcess

BINARY = Path("/usr/bin/docker-registry")


@dataclass(frozen=True)
class TokenAuth:
    """The registry's ``auth.token`` section."""

    realm: str
    service: str
    issuer: str
    rootcertbundle: Path


class RegistryServer:
    def __init__(
        self, name: str = "registry", token: TokenAuth | None = None, supervised: bool = False
    ) -> None:
        self.name = name
        self.token = token
        #: Run under a loop that starts it again whenever it exits, as systemd's
        #: Restart=always would: ``restart_command`` then restarts it with its config file
        #: as it is then (what sysinv's garbage collection does to the real service).
        self.supervised = supervised
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix=f"sysinv-{name}-"))
        self.storage = self.base / "storage"
        self.config_file = self.base / "config.yml"
        self.proc: ManagedProcess | None = None
        self.start_seconds = 0.0

    @property
    def address(self) -> str:
        """host:port, as image references name it."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "info", "formatter": "text"},
            "storage": {
                "filesystem": {"rootdirectory": str(self.storage)},
                "delete": {"enabled": True},
                # No background purge of upload directories racing a test.
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            # The secret signs upload state between requests; the file is 0600 below.
            "http": {"addr": self.address, "secret": secrets.token_hex(16)},
        }
        if self.token is not None:
            config["auth"] = {
                "token": {
                    "realm": self.token.realm,
                    "service": self.token.service,
                    "issuer": self.token.issuer,
                    "rootcertbundle": str(self.token.rootcertbundle),
                }
            }
        return config

    def start(self) -> RegistryServer:
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} is not installed (apt install docker-registry)")
        started = time.monotonic()
        procs.register(self)
        try:
            self.storage.mkdir()
            self.config_file.touch(mode=0o600)
            self.config_file.write_text(yaml.safe_dump(self.config(), sort_keys=False))
            serve = [str(BINARY), "serve", str(self.config_file)]
            if self.supervised:
                serve = ["/bin/sh", "-c", 'while :; do "$0" serve "$1"; sleep 0.1; done',
                         str(BINARY), str(self.config_file)]  # fmt: skip
            self.proc = ManagedProcess(
                self.name,
                serve,
                self.base / "registry.log",
                cwd=self.base,
            )
            self._wait_ready(30)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        print(
            f">> {self.name} on {self.address} in {self.start_seconds:.2f} s",
            file=sys.stderr,
        )
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        # The base endpoint: 200 without auth, 401 with a Bearer challenge with it.
        expected = 401 if self.token is not None else 200
        while True:
            self.proc.check_alive()
            try:
                if httpx.get(f"{self.url}/v2/", timeout=2).status_code == expected:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name} did not answer GET {self.url}/v2/ within {timeout:.0f} s:\n"
                    f"{self.proc.log_tail()}"
                )
            time.sleep(0.05)

    @property
    def restart_command(self) -> list[str]:
        """Stops the registry process (not its supervising loop, which starts it again)."""
        assert self.supervised, "only a supervised registry comes back after a stop"
        return ["pkill", "-TERM", "-f", f"^{BINARY} serve {self.config_file}$"]

    def storage_bytes(self) -> int:
        """What the registry's storage holds on disk (blobs, manifests, links)."""
        return sum(p.stat().st_size for p in self.storage.rglob("*") if p.is_file())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        procs.unregister(self)


class LocalRegistry:
    """The platform's local registry: token authentication with sysinv's token endpoint as
    its realm, trusting the certificate of a signing key that sysinv's own code created.

    ``token_port`` is reserved for the ``sysinv-api`` that serves the tokens
    (``TokenApi``); ``sysinv_env()`` holds the settings that sysinv-api (or a conductor
    minting its own tokens) needs to sign tokens this registry accepts.
    """

    SERVICE = "sysinv-test-registry"
    ISSUER = "sysinv-test"

    def __init__(self, supervised: bool = False) -> None:
        self.keys = Path(tempfile.mkdtemp(prefix="sysinv-registry-keys-"))
        self.signing_key_file = self.keys / "registry-token.key"
        self.certificate_file = self.keys / "registry-token.crt"
        self.token_port = free_port()
        self.server = RegistryServer(
            "local-registry",
            TokenAuth(
                realm=f"http://127.0.0.1:{self.token_port}/v1/registry/token",
                service=self.SERVICE,
                issuer=self.ISSUER,
                rootcertbundle=self.certificate_file,
            ),
            supervised=supervised,
        )

    @property
    def address(self) -> str:
        return self.server.address

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def realm(self) -> str:
        assert self.server.token is not None
        return self.server.token.realm

    def start(self) -> LocalRegistry:
        from sysinv_common.registry_token import SigningKey

        procs.register(self)
        try:
            SigningKey.load_or_create(self.signing_key_file, self.certificate_file)
            self.server.start()
        except BaseException:
            self.stop()
            raise
        return self

    def sysinv_env(self) -> dict[str, str]:
        return {
            "SYSINV_REGISTRY__ADDRESS": self.address,
            "SYSINV_REGISTRY__SERVICE": self.SERVICE,
            "SYSINV_REGISTRY__ISSUER": self.ISSUER,
            "SYSINV_REGISTRY__SIGNING_KEY_FILE": str(self.signing_key_file),
            "SYSINV_REGISTRY__CERTIFICATE_FILE": str(self.certificate_file),
        }

    def stop(self) -> None:
        self.server.stop()
        shutil.rmtree(self.keys, ignore_errors=True)
        procs.unregister(self)


class TokenApi:
    """``sysinv-api`` itself, with Keystone authentication, serving the local registry's
    tokens on the port its realm names."""

    def __init__(
        self, local: LocalRegistry, keystone_env: dict[str, str], base: Path | None = None
    ) -> None:
        self.local = local
        self.keystone_env = keystone_env
        # Under the test run's directory, its log is among those no secret may appear in.
        self.base = base or Path(tempfile.mkdtemp(prefix="sysinv-token-api-"))
        self.proc: ManagedProcess | None = None
        self.start_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local.token_port}"

    def start(self) -> TokenApi:
        bin_dir = Path(sys.executable).parent
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYSINV_")}
        env.update(
            SYSINV_STATE_DIR=str(self.base),
            SYSINV_DATABASE__URL=f"sqlite:///{self.base / 'sysinv.db'}",
            SYSINV_MESSAGING__BROKER_URL="memory://",
            SYSINV_API__PORT=str(self.local.token_port),
            SYSINV_API__AUTH="keystone",
            **self.keystone_env,
            **self.local.sysinv_env(),
        )
        started = time.monotonic()
        procs.register(self)
        try:
            self.proc = ManagedProcess(
                "sysinv-api (registry tokens)",
                [str(bin_dir / "sysinv-api")],
                self.base / "sysinv-api.log",
                env=env,
                cwd=self.base,
            )
            deadline = time.monotonic() + 60
            while not port_open(self.local.token_port):
                self.proc.check_alive()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"sysinv-api did not listen:\n{self.proc.log_tail()}")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started
        print(f">> sysinv-api (registry tokens) on {self.url} in {self.start_seconds:.2f} s",
              file=sys.stderr)  # fmt: skip
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        shutil.rmtree(self.base, ignore_errors=True)
        procs.unregister(self)
