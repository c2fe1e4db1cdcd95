"""The nodes and the local registry, end to end: docker service parameters set through
the API (the nodes' registry login, a Docker Hub mirror, a proxy exception), applied;
the conductor's configuration for a host, applied by the agent's Docker configurator
under a temporary root; then a real ``dockerd`` started with the ``daemon.json`` the agent
wrote pulls an application image from the local registry with the login the agent wrote
(checked by Keystone through sysinv's token endpoint), and Docker's SDK shows the mirror
and the registry it was told to trust."""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from sysinv_agent.configurators import NodeContext
from sysinv_agent.configurators.docker import CLIENT_CONFIG, DAEMON_JSON, DockerConfigurator
from sysinv_agent.runner import RecordingRunner, recorded_commands
from sysinv_conductor.flows import host_config
from tests.registry_tools import push
from tests.servers import secrets_seen
from tests.servers.docker import DockerDaemon
from tests.servers.keystone import KeystoneServer
from tests.servers.registry import LocalRegistry, RegistryServer, TokenApi
from tests.stack import Stack, make_settings, running_stack

pytestmark = pytest.mark.keystone


@pytest.fixture
def stack(local_registry: LocalRegistry, tmp_path: Path) -> Iterator[Stack]:
    settings = make_settings(tmp_path / "state")
    # The nodes' registry: the platform's, as bootstrap records it.
    settings.bootstrap.registry.address = local_registry.address
    with running_stack(settings) as s:
        yield s


def add(stack: Stack, section: str, **parameters: str) -> list[dict[str, str]]:
    r = stack.client.post("/v1/service_parameter", json={
        "service": "docker", "section": section, "parameters": parameters,
    })  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()["parameters"]  # type: ignore[no-any-return]


def test_a_node_pulls_from_the_local_registry_with_what_the_agent_wrote(
    stack: Stack, local_registry: LocalRegistry, registry_token_api: TokenApi,
    keystone: KeystoneServer, public_registry: RegistryServer, tmp_path: Path,
) -> None:  # fmt: skip
    run = uuid.uuid4().hex[:6]
    repository = f"docker.io/node{run}/hello"
    digest = push(local_registry, tmp_path, repository, "1.0").manifest_digest
    reader = keystone.reader

    (login,) = [p for p in add(stack, "local-registry", username=reader.username,
                               password=reader.password) if p["name"] == "password"]  # fmt: skip
    assert login["value"] == "****"
    add(stack, "docker-registry", url=public_registry.address, secure="False")
    add(stack, "proxy", no_proxy="localhost,127.0.0.1")
    listed = stack.client.get("/v1/service_parameter", params={
        "q.field": "section", "q.op": "eq", "q.value": "local-registry"})  # fmt: skip
    assert reader.password not in listed.text and len(listed.json()["parameters"]) == 2
    host = stack.add_host(f"worker-{run}")
    assert stack.client.post("/v1/service_parameter/apply", json={"service": "docker"}
                             ).status_code == 204  # fmt: skip

    config = host_config.current_config(stack.conductor.ctx, host["hostname"])
    assert config is not None and config.docker.registry == local_registry.address
    root = tmp_path / "node"
    node = NodeContext(root=root, runner=RecordingRunner(tmp_path / "commands.log"))
    result = DockerConfigurator().apply(config, node)
    assert result.ok, result.message
    assert CLIENT_CONFIG in result.files
    assert ["systemctl", "restart", "docker"] in recorded_commands(tmp_path / "commands.log")
    credentials = node.path(CLIENT_CONFIG)
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert stat.S_IMODE(credentials.parent.stat().st_mode) == 0o700

    daemon_json = json.loads(node.path(DAEMON_JSON).read_text())
    daemon = DockerDaemon(daemon_json).start()
    try:
        info = docker.DockerClient(base_url=daemon.host).info()
        registry = info["RegistryConfig"]
        assert registry["Mirrors"] == [f"http://{public_registry.address}/"], registry
        assert registry["IndexConfigs"][public_registry.address]["Secure"] is False, registry
        # The login the agent wrote (Docker's client reads root's ~/.docker, kubelet too).
        pulled = daemon.cli(
            credentials.parent, "pull", f"{local_registry.address}/{repository}:1.0"
        )
        assert pulled.returncode == 0, pulled.stderr
        assert f"Digest: {digest}" in pulled.stdout
    finally:
        daemon.stop()

    # The login removed and applied again: the agent removes the file it wrote.
    stack.client.delete(f"/v1/service_parameter/{login['uuid']}")
    stack.client.post("/v1/service_parameter/apply", json={"service": "docker"})
    config = host_config.current_config(stack.conductor.ctx, host["hostname"])
    assert config is not None and config.docker.registry_password is None
    again = DockerConfigurator().apply(config, node)
    assert again.ok and CLIENT_CONFIG in again.files and not credentials.exists()
    secrets_seen.remember(reader.password)


def test_service_parameters_are_checked(stack: Stack) -> None:
    def post(section: str, **parameters: str) -> tuple[int, str]:
        r = stack.client.post("/v1/service_parameter", json={
            "service": "docker", "section": section, "parameters": parameters})  # fmt: skip
        return r.status_code, r.text

    assert post("proxy", http_proxy="not a url")[0] == 400
    code, text = post("nosuch", x="1")
    assert code == 400 and "Unknown section 'nosuch'" in text and "proxy" in text
    code, text = post("proxy", ftp_proxy="http://p:1")
    assert code == 400 and "Unknown parameter 'ftp_proxy'" in text
    assert post("proxy", http_proxy="http://proxy.example.com:3128")[0] == 200
    code, text = post("proxy", http_proxy="http://other:1")
    assert code == 400 and "already exists" in text, text  # sysinv answers conflicts 400
    (row,) = stack.client.get("/v1/service_parameter", params={"name": "http_proxy"}).json()[
        "parameters"
    ]
    patch = [{"op": "replace", "path": "/value", "value": "http://proxy2.example.com:3128"}]
    r = stack.client.patch(f"/v1/service_parameter/{row['uuid']}", json=patch)
    assert r.status_code == 200 and r.json()["value"] == "http://proxy2.example.com:3128"
    rename = [{"op": "replace", "path": "/name", "value": "https_proxy"}, patch[0]]
    r = stack.client.patch(f"/v1/service_parameter/{row['uuid']}", json=rename)
    assert r.status_code == 400 and "cannot change" in r.text
    assert stack.client.delete(f"/v1/service_parameter/{row['uuid']}").status_code == 204
    assert stack.client.get(f"/v1/service_parameter/{row['uuid']}").status_code == 404
    r = stack.client.post("/v1/service_parameter/apply", json={"service": "nosuch"})
    assert r.status_code == 404
