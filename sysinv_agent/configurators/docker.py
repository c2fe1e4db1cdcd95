"""The Docker configurator: ``daemon.json``, the local registry's CA and the proxy drop-in.

Files (node paths):

* ``/etc/docker/daemon.json``: cgroup driver, bounded json-file logs, registry mirrors and
  the insecure registries the configuration names (never more: the local registry is trusted
  through its CA, not by turning TLS verification off);
* ``/etc/docker/certs.d/<registry>/ca.crt``: the local registry's CA;
* ``/etc/systemd/system/docker.service.d/http-proxy.conf``: the proxy, absent when none;
* ``/root/.docker/config.json`` (0600, its directory 0700): the login for the local
  registry, which ``docker pull`` and kubelet read; removed when the login goes, and only
  if sysinv wrote it. Changing it restarts nothing: clients read it at each pull.

Docker is restarted only when one of them changed (with a ``daemon-reload`` first when the
drop-in did). The state file ``/var/lib/sysinv-agent/docker.json`` remembers which registry
CA directories sysinv wrote (so only those are ever removed) and a restart still owed after a
failure, which the next apply retries even though the files no longer change.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from sysinv_agent.fs import atomic_write, matches, read_state, remove_file, write_state
from sysinv_agent.runner import failed_result, happened
from sysinv_common.nodeconfig import ConfiguratorResult, DockerConfig, HostConfig

if TYPE_CHECKING:
    from sysinv_agent.configurators import NodeContext

DAEMON_JSON = "/etc/docker/daemon.json"
CERTS_DIR = "/etc/docker/certs.d"
PROXY_DROPIN = "/etc/systemd/system/docker.service.d/http-proxy.conf"
CLIENT_CONFIG = "/root/.docker/config.json"

DAEMON_RELOAD = ["systemctl", "daemon-reload"]
RESTART_DOCKER = ["systemctl", "restart", "docker"]


def daemon_json(docker: DockerConfig) -> bytes:
    """The content of ``daemon.json`` for ``docker``."""
    settings: dict[str, Any] = {
        "exec-opts": [f"native.cgroupdriver={docker.cgroup_driver}"],
        "log-driver": "json-file",
        "log-opts": {"max-size": "100m", "max-file": "3"},
    }
    if docker.registry_mirrors:
        settings["registry-mirrors"] = list(docker.registry_mirrors)
    if docker.insecure_registries:
        settings["insecure-registries"] = list(docker.insecure_registries)
    return (json.dumps(settings, indent=2, sort_keys=True) + "\n").encode()


def client_config(docker: DockerConfig) -> bytes | None:
    """Docker's client config holding the local registry's login; None without one."""
    if not (docker.registry and docker.registry_username and docker.registry_password):
        return None
    pair = f"{docker.registry_username}:{docker.registry_password}".encode()
    auths = {docker.registry: {"auth": base64.b64encode(pair).decode()}}
    return (json.dumps({"auths": auths}, indent=2, sort_keys=True) + "\n").encode()


def _systemd_quote(value: str) -> str:
    if any(c in value for c in "\n\r\0"):
        raise ValueError(f"proxy setting contains a line break: {value!r}")
    # Inside a quoted Environment= assignment: backslash and quote are escaped, and % would
    # start a systemd specifier.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
    return f'"{escaped}"'


def proxy_dropin(docker: DockerConfig) -> bytes | None:
    """The proxy drop-in for ``docker``; None when no proxy is set."""
    variables = {
        "HTTP_PROXY": docker.http_proxy,
        "HTTPS_PROXY": docker.https_proxy,
        "NO_PROXY": docker.no_proxy,
    }
    lines = [
        f"Environment={_systemd_quote(f'{key}={value}')}"
        for key, value in variables.items()
        if value
    ]
    if not lines:
        return None
    return ("# Written by sysinv-agent.\n[Service]\n" + "\n".join(lines) + "\n").encode()


def _registry_dir(registry: str) -> str:
    # The directory is named after host[:port]; anything that could make it a different path
    # is refused rather than sanitised into some other registry's name.
    if not registry or "/" in registry or registry in {".", ".."} or "\0" in registry:
        raise ValueError(f"invalid registry name {registry!r}")
    return f"{CERTS_DIR}/{registry}"


def _registry_dir_or_none(registry: str) -> str | None:
    try:
        return _registry_dir(registry)
    except ValueError:
        return None


class DockerConfigurator:
    name = "docker"

    def apply(self, config: HostConfig, node: NodeContext) -> ConfiguratorResult:
        docker = config.docker
        # Every byte is computed before anything is written, so a bad value leaves the node's
        # previous (working) files alone.
        try:
            daemon = daemon_json(docker)
            dropin = proxy_dropin(docker)
            login = client_config(docker)
            ca: tuple[str, bytes] | None = None
            if docker.registry and docker.registry_ca:
                pem = docker.registry_ca.rstrip("\n") + "\n"
                ca = (f"{_registry_dir(docker.registry)}/ca.crt", pem.encode())
        except ValueError as e:
            return ConfiguratorResult(name=self.name, ok=False, message=str(e))

        state_path = node.state_path(self.name)
        state = read_state(state_path)
        ours = [r for r in state.get("ca_registries", []) if isinstance(r, str)]
        current = docker.registry if ca is not None else None
        # Directories of registries sysinv trusted before and no longer does.
        stale = [d for r in ours if r != current and (d := _registry_dir_or_none(r)) is not None]
        daemon_path = node.path(DAEMON_JSON)
        dropin_path = node.path(PROXY_DROPIN)

        dropin_differs = (
            dropin_path.exists() if dropin is None else not matches(dropin_path, dropin)
        )
        any_differs = (
            dropin_differs
            or not matches(daemon_path, daemon)
            or (ca is not None and not matches(node.path(ca[0]), ca[1]))
            or any(node.path(f"{d}/ca.crt").exists() for d in stale)
        )
        need_reload = bool(state.get("pending_daemon_reload")) or dropin_differs
        need_restart = bool(state.get("pending_restart")) or any_differs
        # Owe the commands (and own the new CA directory) before touching a file, so that a
        # crash part-way still restarts docker, and removes that directory, on a later apply.
        new_state: dict[str, Any] = {
            "ca_registries": sorted({*ours, *([current] if current else [])}),
            "pending_daemon_reload": need_reload,
            "pending_restart": need_restart,
            "client_config": bool(state.get("client_config")),
        }
        write_state(state_path, new_state)

        files: list[str] = []
        if atomic_write(daemon_path, daemon, 0o644):
            files.append(DAEMON_JSON)
        if ca is not None and atomic_write(node.path(ca[0]), ca[1], 0o644):
            files.append(ca[0])
        for directory in stale:
            files.extend(self._remove_ca(node, directory))
        if dropin is None:
            dropin_changed = remove_file(dropin_path)
        else:
            dropin_changed = atomic_write(dropin_path, dropin, 0o644)
        if dropin_changed:
            files.append(PROXY_DROPIN)
        new_state["ca_registries"] = [current] if current else []
        login_path = node.path(CLIENT_CONFIG)
        if login is not None:
            # Owned before written, so that a crash part-way still lets a later apply remove it.
            new_state["client_config"] = True
            write_state(state_path, new_state)
            if atomic_write(login_path, login, 0o600):
                files.append(CLIENT_CONFIG)
        elif state.get("client_config"):
            if remove_file(login_path):
                files.append(CLIENT_CONFIG)
            new_state["client_config"] = False
        write_state(state_path, new_state)

        commands: list[list[str]] = []
        steps = ([DAEMON_RELOAD] if need_reload else []) + (
            [RESTART_DOCKER] if need_restart else []
        )
        for argv in steps:
            commands.append(argv)
            outcome = node.runner.run(argv)
            if not outcome.ok:
                return failed_result(self.name, files, commands, outcome)
            if argv == DAEMON_RELOAD:
                new_state["pending_daemon_reload"] = False
            else:
                new_state["pending_restart"] = False
            write_state(state_path, new_state)

        restart = happened(node.runner, "docker restarted",
                           "docker restart recorded, not run")  # fmt: skip
        if not commands:
            message = "registry login updated" if files else "up to date"
        elif files:
            message = f"configuration changed; {restart}"
        else:
            message = f"{restart} (retry of a failed restart)"
        return ConfiguratorResult(
            name=self.name,
            ok=True,
            changed=bool(files),
            files=files,
            commands=commands,
            message=message,
        )

    @staticmethod
    def _remove_ca(node: NodeContext, directory: str) -> list[str]:
        removed: list[str] = []
        ca_file = f"{directory}/ca.crt"
        if remove_file(node.path(ca_file)):
            removed.append(ca_file)
        dir_path = node.path(directory)
        # Only the directory we created, and only if nobody put anything else in it.
        if dir_path.is_dir() and not any(dir_path.iterdir()):
            dir_path.rmdir()
        return removed
