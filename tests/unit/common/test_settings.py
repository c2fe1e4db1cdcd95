from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sysinv_common.conf import load_settings


def test_defaults_are_the_embedded_mode(tmp_path: Path) -> None:
    s = load_settings(state_dir=tmp_path)
    assert s.database_url == f"sqlite:///{tmp_path / 'sysinv.db'}"
    assert s.messaging.broker_url == "memory://"
    assert s.api.port == 6385
    assert s.kubernetes.kubeconfig is None


def test_environment_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "sysinv.yaml"
    cfg.write_text(
        "api: {port: 7000}\nbootstrap: {system_name: site-a, system_type: Standard, "
        "system_mode: duplex}\n"
    )
    monkeypatch.setenv("SYSINV_CONFIG_FILE", str(cfg))
    monkeypatch.setenv("SYSINV_API__PORT", "7001")
    s = load_settings()
    assert s.api.port == 7001
    assert s.bootstrap.system_name == "site-a"
    assert s.bootstrap.system_type == "Standard"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("bootstrap: {system_type: Standard, system_mode: simplex}", "not valid for a Standard"),
        ("api: {port: 0}", "greater than or equal"),
        ("no_such_key: 1", "Extra inputs"),
        ("bootstrap: {pod_subnet: 10.0.0.0/33}", "pod_subnet"),
        ("apps: {url_allowed_hosts: ['https://mirror.example.com']}", "is not a host pattern"),
        ("apps: {url_allowed_hosts: ['mirror:http']}", "is not a host pattern"),
    ],
)
def test_bad_settings_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, why: str
) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(content)
    monkeypatch.setenv("SYSINV_CONFIG_FILE", str(cfg))
    with pytest.raises(ValidationError, match=why):
        load_settings()


def test_unreadable_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYSINV_CONFIG_FILE", str(tmp_path / "missing.yaml"))
    with pytest.raises(ValueError, match="cannot read configuration file"):
        load_settings()


def test_url_uploads_are_off_until_hosts_are_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings(state_dir=tmp_path).apps.url_allowed_hosts == []
    monkeypatch.setenv("SYSINV_APPS__URL_ALLOWED_HOSTS", '["Mirror.Example.com", "[fd00::1]:*"]')
    hosts = load_settings(state_dir=tmp_path).apps.url_allowed_hosts
    assert hosts == ["mirror.example.com", "[fd00::1]:*"]
