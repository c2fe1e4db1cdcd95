"""Compute each chart's system overrides and layer them with the operator's.

Per (chart, namespace), lowest first: the chart's values.yaml, its Armada document's
values, the plugin's system overrides, the user overrides (docs/helm-overrides.md). Helm itself
merges values.yaml under the rest; everything above it is merged here, with Helm's rules.
"""

from __future__ import annotations

import logging
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

import bounded_yaml
from armada.documents import Chart, DocumentSet
from helm_overrides.images import image_overrides
from helm_overrides.merge import coalesce, merge_layers
from helm_overrides.plugin import (
    ChartPlugin,
    LabelRequirement,
    NotConfigured,
    UnsupportedNamespace,
    load_plugins,
)
from helm_overrides.snapshot import ChartInput, ModelSnapshot
from sysinv_common.errors import InvalidInput

LOG = logging.getLogger(__name__)


@dataclass
class ChartOverrides:
    doc_name: str
    chart: str
    namespace: str
    enabled: bool
    doc_values: dict[str, Any]
    system: dict[str, Any] | None = None
    #: Why there are no system overrides: no plugin, not configured, other namespace.
    note: str | None = None
    not_configured: bool = False
    user: dict[str, Any] | None = None
    requires: tuple[LabelRequirement, ...] = field(default_factory=tuple)

    def combined(self) -> dict[str, Any] | None:
        layers = [layer for layer in (self.system, self.user) if layer]
        return merge_layers(layers) if layers else None

    def helm_values(self) -> dict[str, Any]:
        """What the release gets above values.yaml: document, system, user."""
        return merge_layers([self.doc_values, self.system or {}, self.user or {}])


@dataclass(frozen=True)
class ChartSettings:
    enabled: bool = True
    user_overrides: str | None = None


#: The largest values.yaml read from a chart archive (helm itself refuses files over 5 MiB).
MAX_CHART_VALUES_BYTES = 8 * 1024 * 1024


class StoredOverridesError(ValueError):
    """Stored user overrides beyond a limit of :mod:`bounded_yaml` (written before the
    limits existed: what is stored now was checked and has no aliases)."""


def parse_user_overrides(text: str | None) -> dict[str, Any] | None:
    """Stored user overrides; :class:`StoredOverridesError` if beyond the YAML limits."""
    if not text:
        return None
    try:
        data = bounded_yaml.load(text)
    except bounded_yaml.YAMLLimitError as exc:
        raise StoredOverridesError(str(exc)) from None
    return data if isinstance(data, dict) and data else None


def user_overrides_of(text: str | None, app_name: str, chart: str, namespace: str) -> Any:
    """:func:`parse_user_overrides` for a chart, refused with the command that clears them."""
    try:
        return parse_user_overrides(text)
    except StoredOverridesError as exc:
        raise InvalidInput(
            f"The user overrides stored for chart {chart}:{namespace} of application "
            f"{app_name} cannot be used: {exc}. Clear them with: system helm-override-delete "
            f"{app_name} {chart} {namespace}"
        ) from None


@lru_cache(maxsize=256)
def _defaults_cached(path: str, mtime_ns: int, size: int) -> dict[str, Any]:
    name = Path(path).name
    with tarfile.open(path, "r:*") as tar:
        for member in tar.getmembers():
            parts = member.name.strip("/").split("/")
            if len(parts) == 2 and parts[1] == "values.yaml" and member.isfile():
                if member.size > MAX_CHART_VALUES_BYTES:
                    raise InvalidInput(
                        f"chart {name}: values.yaml is {member.size} bytes, over the limit "
                        f"of {MAX_CHART_VALUES_BYTES}"
                    )
                f = tar.extractfile(member)
                try:
                    data = bounded_yaml.load(f.read()) if f is not None else None
                except yaml.YAMLError as exc:
                    raise InvalidInput(f"chart {name}: values.yaml: {exc}") from None
                return data if isinstance(data, dict) else {}
    return {}


def chart_defaults(archive: Path) -> dict[str, Any]:
    """The values.yaml of a packaged chart (a copy: callers may not share it)."""
    try:
        st = archive.stat()
    except FileNotFoundError:
        return {}
    return merge_layers([_defaults_cached(str(archive), st.st_mtime_ns, st.st_size)])


class OverrideGenerator:
    def __init__(self, plugins: Mapping[str, ChartPlugin] | None = None) -> None:
        self.plugins = dict(load_plugins() if plugins is None else plugins)

    def generate(
        self,
        snap: ModelSnapshot,
        app_name: str,
        docs: DocumentSet,
        charts_dir: Path,
        settings: Mapping[tuple[str, str], ChartSettings],
        manifest: str | None = None,
        only: tuple[str, str] | None = None,
    ) -> list[ChartOverrides]:
        out: list[ChartOverrides] = []
        chosen = docs.manifest(manifest)
        for group in chosen.chart_groups:
            for doc_name in docs.groups[group].charts:
                doc = docs.charts[doc_name]
                key = (doc.chart_name, doc.namespace)
                if only is not None and key != only:
                    continue
                cs = settings.get(key, ChartSettings())
                out.append(self._one(snap, app_name, doc, charts_dir, cs))
        return out

    def _one(
        self, snap: ModelSnapshot, app_name: str, doc: Chart, charts_dir: Path, cs: ChartSettings
    ) -> ChartOverrides:
        result = ChartOverrides(
            doc_name=doc.name,
            chart=doc.chart_name,
            namespace=doc.namespace,
            enabled=cs.enabled,
            doc_values=merge_layers([doc.values]),
            user=user_overrides_of(cs.user_overrides, app_name, doc.chart_name, doc.namespace),
        )
        base = coalesce(chart_defaults(charts_dir / Path(doc.source_location).name),
                        result.doc_values)  # fmt: skip
        chart_input = ChartInput(app_name, doc.chart_name, doc.namespace, base)
        # Every chart's images come from the local registry, whether or not it has a
        # plugin; a plugin's own images.tags entries are laid over these.
        images = image_overrides(snap, chart_input)
        plugin = self.plugins.get(doc.chart_name)
        if plugin is None:
            result.note = f"no override plugin for chart {doc.chart_name}"
            result.system = images or None
            return result
        try:
            result.system = merge_layers([images, plugin.overrides(snap, chart_input)])
        except NotConfigured as exc:
            result.note = f"not configured: {exc.reason}"
            result.not_configured = True
        except UnsupportedNamespace as exc:
            result.note = str(exc)
            result.system = images or None
            return result
        result.requires = plugin.requirements(snap, chart_input)
        return result


def missing_labels(snap: ModelSnapshot, charts: list[ChartOverrides]) -> list[str]:
    """sysinv-style hints for each label an enabled chart needs and no host carries."""
    hints: list[str] = []
    seen: set[tuple[str, str]] = set()
    for co in charts:
        if not co.enabled:
            continue
        for req in co.requires:
            if (req.key, req.value) in seen or snap.labelled(req.key, req.value):
                continue
            seen.add((req.key, req.value))
            suggest = [h for h in snap.hosts if h.personality in req.suggest]
            if snap.is_all_in_one and not suggest:
                suggest = list(snap.controllers)
            host = suggest[0].hostname if suggest else "<host>"
            hints.append(
                f"chart {co.chart} needs a host labelled {req.key}={req.value}. "
                f"Please use system host-label-assign {host} {req.key}={req.value}"
            )
    return hints
