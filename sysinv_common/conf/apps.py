"""Applications: where bundles come from, how big they may be, how they are deployed."""

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, field_validator

from sysinv_common.apps.extract import ExtractLimits

#: Where StarlingX keeps the application tarballs it ships, on a controller.
STARLINGX_APPS_DIR = "/usr/local/share/applications/helm"
# host, host:port or host:*, the host a glob (fnmatch) pattern; an IPv6 address in [].
_HOST_PATTERN = re.compile(r"(?:\[[0-9A-Fa-f:.*?]+\]|[^\s:/@\[\]]+)(?::(?:[0-9]{1,5}|\*))?")


class Deployer(StrEnum):
    HELM = "helm"
    ARMADA = "armada"


class AppSettings(BaseModel):
    import_dir: list[str] = Field(
        default_factory=lambda: [STARLINGX_APPS_DIR],
        description=(
            "Directories on the sysinv-api host, besides <state_dir>/import, from which a "
            "`tarfile` path in an upload or update request is read: StarlingX's client sends "
            "only that path from a controller for application-update. The default is where "
            "StarlingX ships its applications. A path elsewhere is refused (send binary_data "
            "instead). In the environment: a JSON list."
        ),
    )
    max_bundle_bytes: int = Field(
        512 * 1024 * 1024, gt=0, description="Largest application tarball accepted."
    )
    max_metadata_bytes: int = Field(
        256 * 1024, gt=0, description="Largest metadata.yaml read from a tarball."
    )
    max_extracted_bytes: int = Field(
        2 * 1024 * 1024 * 1024,
        gt=0,
        description=(
            "What one bundle may take on disk once extracted (the sum of its files): a "
            "small tarball that expands past it is refused before it fills the disk."
        ),
    )
    max_bundle_members: int = Field(
        10_000, gt=0, description="Files and directories one bundle may hold."
    )

    def extract_limits(self) -> ExtractLimits:
        """The caps every read of a bundle's tarball applies (API and conductor alike)."""
        return ExtractLimits(
            max_total_bytes=self.max_extracted_bytes,
            max_member_bytes=min(self.max_extracted_bytes, ExtractLimits.max_member_bytes),
            max_members=self.max_bundle_members,
        )

    url_allowed_hosts: list[str] = Field(
        default_factory=list,
        description=(
            "Hosts a bundle may be fetched from when an upload's tarfile is an http(s) URL: "
            "host (its default port), host:port or host:*, the host a glob such as "
            "*.example.com; an IPv6 address in brackets. Empty: URL uploads are refused. "
            "Only https and http; a redirect may not leave the host (at most 3 redirects)."
        ),
    )
    url_fetch_timeout: float = Field(
        60.0, gt=0, description="Seconds to fetch a bundle URL, redirects included."
    )
    plan_timeout: float = Field(
        600.0,
        gt=0,
        description=(
            "Seconds the API waits for a dry run (application-apply|remove --dry-run): "
            "helm reads and renders every chart of the application, one after another."
        ),
    )
    lease_seconds: float = Field(
        120.0, gt=0, description="Lease of an app operation; renewed while the work runs."
    )
    helm_binary: str = Field("helm", description="The helm executable (3.x or 4.x).")
    helm_memory_mb: int = Field(
        1024,
        ge=64,
        description=(
            "Memory (data segment, MiB) each helm the conductor runs may use: a chart that "
            "renders past it fails its upload or apply with a message saying so."
        ),
    )
    helm_cpu_seconds: int = Field(
        600,
        ge=1,
        description="CPU seconds each helm the conductor runs may use (waiting costs none).",
    )
    deployer: Deployer = Field(Deployer.HELM, description="helm (default) or armada.")
    armada_command: list[str] = Field(
        default_factory=lambda: ["armada", "apply"],
        description="Command line of `armada apply` for the armada deployer.",
    )
    workers: int = Field(
        2,
        ge=1,
        description=(
            "Application operations one conductor runs at once (threads of its worker on "
            "the <prefix>.conductor.apps queue)."
        ),
    )
    queued_seconds: float = Field(
        3600.0,
        gt=0,
        description=(
            "How long a queued operation may wait for a conductor to take it before the "
            "audit fails it as lost (its lease until then; lease_seconds once it runs)."
        ),
    )
    audit_interval: float = Field(
        30.0,
        gt=0,
        description=(
            "Seconds between a conductor's checks for operations whose conductor died "
            "(lease expired): they are failed and their pending releases resolved."
        ),
    )
    drift_audit_interval: float = Field(
        300.0,
        ge=0,
        description=(
            "Seconds between drift audits of the applied applications: each release's "
            "objects, as helm deployed them, compared with the live ones (docs/drift.md). "
            "0 turns the audit off."
        ),
    )
    chart_concurrency: int = Field(
        4, ge=1, description="Charts of one non-sequenced chart group installed at once."
    )

    @field_validator("import_dir", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        """A single directory (the setting's earlier form) is a list of one; null, none."""
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    @field_validator("url_allowed_hosts")
    @classmethod
    def _host_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not _HOST_PATTERN.fullmatch(pattern.strip()):
                raise ValueError(
                    f"{pattern!r} is not a host pattern: use host, host:port or host:* "
                    "(e.g. mirror.example.com:8443, *.example.com, [fd00::1]:*)"
                )
        return [p.strip().lower() for p in patterns]
