"""The execution plan: what to install, in which order, with which values."""

from __future__ import annotations

import copy
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from armada.documents import Chart, DocumentSet


@dataclass(frozen=True)
class PlannedChart:
    chart: Chart
    release: str
    namespace: str
    archive: Path
    values: dict[str, Any]


@dataclass(frozen=True)
class PlannedGroup:
    name: str
    sequenced: bool
    charts: list[PlannedChart]


@dataclass(frozen=True)
class Plan:
    manifest: str
    groups: list[PlannedGroup]
    release_prefix: str = ""
    #: Who deploys the plan (for sysinv, the application's name). A deployer that can
    #: labels the releases with it, and touches no release labelled for another owner.
    owner: str | None = None

    @property
    def charts(self) -> list[PlannedChart]:
        return [c for g in self.groups for c in g.charts]


def release_name(prefix: str, release: str) -> str:
    # Armada's release_prefixer: "<prefix>-<release>".
    return f"{prefix}-{release}"


def build_plan(
    docs: DocumentSet,
    charts_dir: Path,
    values: Mapping[str, dict[str, Any]] | None = None,
    disabled: Collection[str] = (),
    manifest: str | None = None,
    owner: str | None = None,
) -> Plan:
    """Chart groups in manifest order; disabled charts (by document or chart name) left out."""
    chosen = docs.manifest(manifest)
    groups: list[PlannedGroup] = []
    for group_name in chosen.chart_groups:
        group = docs.groups[group_name]
        planned: list[PlannedChart] = []
        for chart_name in group.charts:
            chart = docs.charts[chart_name]
            if chart.name in disabled or chart.chart_name in disabled:
                continue
            if chart.test is None and group.test_charts is not None:
                # Armada: a v1 group's test_charts is the default its charts may override.
                chart = replace(chart, test=group.test_charts)
            chart_values = values.get(chart.name) if values is not None else None
            planned.append(
                PlannedChart(
                    chart=chart,
                    release=release_name(chosen.release_prefix, chart.release),
                    namespace=chart.namespace,
                    archive=Path(charts_dir) / os.path.basename(chart.source_location),
                    values=copy.deepcopy(chart.values if chart_values is None else chart_values),
                )
            )
        if planned:
            groups.append(PlannedGroup(group.name, group.sequenced, planned))
    return Plan(chosen.name, groups, chosen.release_prefix, owner)
