"""The token webhook's kubeconfig in controllers' desired configuration, and only theirs."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config

from sysinv_common.conf import Settings, load_settings
from sysinv_common.db.prepare import prepare_database
from sysinv_common.states import host as host_states
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import host_config
from tests.servers.pki import CertificateAuthority
from tests.unit.conductor.conftest import SERVER

URL = "https://192.168.206.2:6386/webhook"
HOSTS = {"controller-0": "controller", "controller-1": "controller", "worker-0": "worker",
         "storage-0": "storage"}  # fmt: skip


@pytest.fixture
def ca_pem(tmp_path: Path) -> bytes:
    directory = tmp_path / "pki"
    directory.mkdir()
    return CertificateAuthority(directory).cert_path.read_bytes()


def write_kubeconfig(path: Path, ca_pem: bytes | None) -> Path:
    cluster: dict[str, str] = {"server": SERVER}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }))  # fmt: skip
    return path


@pytest.fixture
def make_ctx(tmp_path: Path) -> Iterator[Callable[[Settings], ConductorContext]]:
    """A context on a bootstrapped database holding HOSTS (all locked: none joins)."""
    built: list[ConductorContext] = []

    def make(settings: Settings) -> ConductorContext:
        ctx = ConductorContext.build(settings, prepare_database(settings))
        built.append(ctx)
        with ctx.db.session() as s:
            for hostname, personality in HOSTS.items():
                s.add(host_states.new_host(hostname=hostname, personality=personality))
        return ctx

    yield make
    for ctx in built:
        ctx.db.engine.dispose()


def settings_for(tmp_path: Path, ca_pem: bytes | None, url: str | None = URL) -> Settings:
    settings = load_settings(state_dir=tmp_path / "state")
    settings.kubernetes.kubeconfig = str(write_kubeconfig(tmp_path / "kubeconfig", ca_pem))
    settings.kubernetes.auth_webhook_url = url
    return settings


def webhook_of(ctx: ConductorContext, hostname: str) -> str | None:
    current = host_config.current_config(ctx, hostname)
    assert current is not None
    return current.kubernetes.auth_webhook_kubeconfig


def test_the_kubeconfig_names_the_webhook_and_trusts_only_the_platform_ca(
    tmp_path: Path, ca_pem: bytes
) -> None:
    text = host_config.auth_webhook_kubeconfig(URL, ca_pem)
    # What client-go reads, kube-apiserver reads: the kubernetes client loads it alike.
    path = tmp_path / "webhook.yaml"
    path.write_text(text)
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=cfg)
    assert cfg.host == URL
    assert Path(cfg.ssl_ca_cert).read_bytes() == ca_pem
    assert cfg.cert_file is None and cfg.api_key == {}
    assert cfg.verify_ssl is True


def test_controllers_get_the_webhook_kubeconfig_and_no_one_else(
    tmp_path: Path, ca_pem: bytes, make_ctx: Callable[[Settings], ConductorContext]
) -> None:
    ctx = make_ctx(settings_for(tmp_path, ca_pem))
    assert sorted(host_config.refresh(ctx, push=False)) == sorted(HOSTS)
    expected = host_config.auth_webhook_kubeconfig(URL, ca_pem)
    for hostname, personality in HOSTS.items():
        got = webhook_of(ctx, hostname)
        assert got == (expected if personality == "controller" else None), hostname


def test_setting_the_url_changes_only_the_controllers_configuration(
    tmp_path: Path, ca_pem: bytes, make_ctx: Callable[[Settings], ConductorContext]
) -> None:
    ctx = make_ctx(settings_for(tmp_path, ca_pem, url=None))
    host_config.refresh(ctx, push=False)
    assert all(webhook_of(ctx, h) is None for h in HOSTS)
    assert host_config.refresh(ctx, push=False) == []

    ctx.settings.kubernetes.auth_webhook_url = URL
    assert sorted(host_config.refresh(ctx, push=False)) == ["controller-0", "controller-1"]
    assert host_config.refresh(ctx, push=False) == []


def test_no_platform_ca_no_webhook_kubeconfig_and_one_warning(
    tmp_path: Path, make_ctx: Callable[[Settings], ConductorContext],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    ctx = make_ctx(settings_for(tmp_path, ca_pem=None))
    with caplog.at_level(logging.WARNING, logger=host_config.LOG.name):
        host_config.refresh(ctx, push=False)
        host_config.refresh(ctx, push=False)
        assert webhook_of(ctx, "controller-0") is None
    warnings = [r.getMessage() for r in caplog.records if "auth_webhook_url" in r.getMessage()]
    assert len(warnings) == 1
    assert "names no certificate authority" in warnings[0]


def test_the_url_must_be_https() -> None:
    with pytest.raises(ValueError, match="https"):
        load_settings(kubernetes={"auth_webhook_url": "http://192.168.206.2:6386/webhook"})
