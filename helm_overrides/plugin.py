"""What an override plugin is, and how plugins are found.

A plugin computes the system overrides of one chart from a ``ModelSnapshot``. Plugins are
registered under the entry-point group ``sysinv.helm_overrides`` with the chart's name, so
a site can ship plugins for its own charts as a separate Python package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, ClassVar

from helm_overrides.snapshot import ChartInput, ModelSnapshot

ENTRY_POINT_GROUP = "sysinv.helm_overrides"


class NotConfigured(Exception):
    """The model lacks what this chart needs (no Ceph cluster, say): no values at all
    rather than values that would deploy something broken."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnsupportedNamespace(Exception):
    pass


@dataclass(frozen=True)
class LabelRequirement:
    """At least one host must carry ``key=value`` before the chart can be applied;
    ``suggest`` names the personalities whose hosts the hint proposes."""

    key: str
    value: str
    suggest: tuple[str, ...]


class ChartPlugin(ABC):
    chart: ClassVar[str]
    namespaces: ClassVar[tuple[str, ...]]
    requires: ClassVar[tuple[LabelRequirement, ...]] = ()

    def overrides(self, snap: ModelSnapshot, chart: ChartInput) -> dict[str, Any]:
        if chart.namespace not in self.namespaces:
            raise UnsupportedNamespace(
                f"chart {self.chart} supports namespaces {', '.join(self.namespaces)}, "
                f"not {chart.namespace}"
            )
        return self.compute(snap, chart)

    def requirements(self, snap: ModelSnapshot, chart: ChartInput) -> tuple[LabelRequirement, ...]:
        """The host labels an apply of this chart needs (by default ``requires``); pure,
        like ``compute``, and asked only for a namespace the plugin serves."""
        return self.requires

    @abstractmethod
    def compute(self, snap: ModelSnapshot, chart: ChartInput) -> dict[str, Any]:
        """The system overrides for ``chart.namespace``; pure: no I/O, no clock."""


class PluginLoadError(Exception):
    pass


def load_plugins() -> Mapping[str, ChartPlugin]:
    """Every registered plugin by chart name; a broken registration is an error, not a
    silently missing chart."""
    found: dict[str, ChartPlugin] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
            plugin = cls()
        except Exception as exc:
            raise PluginLoadError(f"override plugin {ep.name} ({ep.value}): {exc}") from exc
        if not isinstance(plugin, ChartPlugin) or plugin.chart != ep.name:
            raise PluginLoadError(
                f"override plugin {ep.name} ({ep.value}) is not a ChartPlugin for chart {ep.name}"
            )
        found[ep.name] = plugin
    return found
