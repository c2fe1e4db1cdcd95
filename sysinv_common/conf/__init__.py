"""Settings: ``SYSINV_*`` environment variables over an optional YAML file over defaults.

Nested groups use ``__``: ``SYSINV_DATABASE__URL``, ``SYSINV_BOOTSTRAP__SYSTEM_MODE``.
The file is named by ``SYSINV_CONFIG_FILE`` (or ``--config-file`` on the commands);
``etc/sysinv.sample.yaml`` documents every key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from sysinv_common.conf.agent import AgentSettings
from sysinv_common.conf.api import ApiSettings, AuthMode
from sysinv_common.conf.apps import AppSettings
from sysinv_common.conf.bootstrap import BootstrapSettings
from sysinv_common.conf.ceph import CephClientSettings
from sysinv_common.conf.conductor import ConductorSettings
from sysinv_common.conf.database import DatabaseSettings
from sysinv_common.conf.fm import FaultSettings
from sysinv_common.conf.keystone import KeystoneSettings
from sysinv_common.conf.kubernetes import KubernetesSettings
from sysinv_common.conf.messaging import MessagingSettings
from sysinv_common.conf.registry import LocalRegistrySettings

__all__ = ["CONFIG_FILE_ENV", "AuthMode", "Settings", "load_settings"]

CONFIG_FILE_ENV = "SYSINV_CONFIG_FILE"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SYSINV_", env_nested_delimiter="__", extra="forbid"
    )

    state_dir: Path = Field(
        Path("/var/lib/sysinv"),
        description="Where sysinv keeps its state: SQLite database, keys, import store.",
    )
    conductor_id: str | None = Field(
        None,
        description="Name of this conductor, stable across restarts (default: the hostname).",
    )
    secrets_key_file: Path | None = Field(
        None,
        description=(
            "Fernet key that encrypts generated secrets at rest; created 0600 at first use "
            "(default: <state_dir>/secrets.key)."
        ),
    )
    api: ApiSettings = Field(default_factory=ApiSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    messaging: MessagingSettings = Field(default_factory=MessagingSettings)
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    keystone: KeystoneSettings = Field(default_factory=KeystoneSettings)
    bootstrap: BootstrapSettings = Field(default_factory=BootstrapSettings)
    apps: AppSettings = Field(default_factory=AppSettings)
    agent: AgentSettings = Field(default_factory=AgentSettings)
    registry: LocalRegistrySettings = Field(default_factory=LocalRegistrySettings)
    fm: FaultSettings = Field(default_factory=FaultSettings)
    ceph: CephClientSettings = Field(default_factory=CephClientSettings)
    conductor: ConductorSettings = Field(default_factory=ConductorSettings)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.state_dir / 'sysinv.db'}"

    @property
    def bundle_cache(self) -> Path:
        """A conductor's copies of uploaded bundles (the database holds the originals)."""
        return self.state_dir / "bundles"

    @property
    def apps_dir(self) -> Path:
        """Extracted bundles, one directory per application version."""
        return self.state_dir / "apps"

    @property
    def import_dirs(self) -> list[Path]:
        """Where a request's `tarfile` path may be read: ``<state_dir>/import`` first, then
        ``apps.import_dir``."""
        return [self.state_dir / "import", *(Path(d) for d in self.apps.import_dir)]

    @property
    def secrets_key_path(self) -> Path:
        return self.secrets_key_file or self.state_dir / "secrets.key"

    @property
    def agent_master_key_path(self) -> Path:
        return self.agent.master_key_file or self.state_dir / "agent-master.key"

    @property
    def registry_signing_key_path(self) -> Path:
        return self.registry.signing_key_file or self.state_dir / "registry-token.key"

    @property
    def registry_certificate_path(self) -> Path:
        return self.registry.certificate_file or self.state_dir / "registry-token.crt"

    @property
    def chart_repo(self) -> Path:
        """The local chart repository (chart archives and index.yaml)."""
        return self.state_dir / "helm-repo"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Explicit arguments win, then the environment, then the file.
        return (init_settings, env_settings, _YamlFileSource(settings_cls))


class _YamlFileSource(InitSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls, init_kwargs=_read_config_file())


def _read_config_file() -> dict[str, Any]:
    path = os.environ.get(CONFIG_FILE_ENV)
    if not path:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read configuration file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"configuration file {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"configuration file {path} must hold a mapping at its top level")
    return data


def load_settings(**overrides: Any) -> Settings:
    """Read the settings afresh (the commands call this once at start)."""
    return Settings(**overrides)
