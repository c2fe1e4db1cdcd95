"""Read-only helm: what a release has deployed, and what a chart would deploy now.

Used to plan an apply before it runs. Nothing here writes: ``helm get`` reads the
release's stored revision, and ``helm upgrade --install --dry-run=server`` renders the
chart against the live cluster (its ``lookup`` calls included) without creating a
revision, a release Secret or any object, with helm 3 and helm 4 alike.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armada.deployers.helm import HelmDeployer
from armada.plan import PlannedChart


@dataclass(frozen=True)
class Deployed:
    """A release as helm stored its current revision."""

    status: str
    revision: int | None
    chart_version: str | None
    #: The values the release was given (``helm get values``), secrets in clear.
    values: dict[str, Any]
    #: Its manifest without hooks (``helm get manifest``).
    manifest: str


@dataclass(frozen=True)
class Rendered:
    """What ``helm upgrade --install --dry-run=server`` would deploy."""

    chart_version: str | None
    manifest: str


class HelmRenderError(RuntimeError):
    pass


class HelmRenderer:
    """Read-only helm calls, with a deployer's binary, cluster, environment and limits."""

    def __init__(self, helm: HelmDeployer) -> None:
        self.helm = helm

    def deployed(self, pc: PlannedChart) -> Deployed | None:
        """The release of ``pc`` as deployed; None when helm has no such release."""
        meta = self.helm._helm("get", "metadata", pc.release, "-o", "json",
                               namespace=pc.namespace)  # fmt: skip
        if meta.returncode != 0:
            if "not found" in meta.stderr.lower():
                return None
            raise HelmRenderError(f"helm get metadata {pc.release} failed: {meta.stderr.strip()}")
        info: dict[str, Any] = json.loads(meta.stdout)
        values = self.helm._helm("get", "values", pc.release, "-o", "json",
                                 namespace=pc.namespace)  # fmt: skip
        manifest = self.helm._helm("get", "manifest", pc.release, namespace=pc.namespace)
        for what, res in (("values", values), ("manifest", manifest)):
            if res.returncode != 0:
                raise HelmRenderError(f"helm get {what} {pc.release} failed: {res.stderr.strip()}")
        revision = info.get("revision")
        return Deployed(
            status=str(info.get("status", "")),
            revision=int(revision) if revision is not None else None,
            chart_version=info.get("version"),
            values=json.loads(values.stdout or "null") or {},
            manifest=manifest.stdout,
        )

    def render(self, pc: PlannedChart) -> Rendered:
        """The manifest (hooks left out, as ``helm get manifest`` leaves them) an upgrade
        or install of ``pc`` would deploy now, rendered by helm against the cluster."""
        self.helm.major()  # refuses a helm other than 3 or 4 before running it
        parent = self.helm.workdir
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        private = Path(tempfile.mkdtemp(prefix="armada-plan-", dir=parent))
        os.chmod(private, 0o700)
        try:
            values = self.helm._values_file(private, pc)
            res = self.helm._helm(
                "upgrade", "--install", pc.release, str(pc.archive), "--values", str(values),
                "--dry-run=server", "-o", "json", namespace=pc.namespace,
            )  # fmt: skip
        finally:
            shutil.rmtree(private, ignore_errors=True)
        if res.returncode != 0:
            detail = (res.stderr or res.stdout).strip() or f"exit code {res.returncode}"
            raise HelmRenderError(f"helm dry run of {pc.release} failed: {detail}")
        release: dict[str, Any] = json.loads(res.stdout)
        chart = release.get("chart") or {}
        metadata = chart.get("metadata") or {}
        return Rendered(chart_version=metadata.get("version"),
                        manifest=str(release.get("manifest") or ""))  # fmt: skip
