"""An application's charts as the API reads them, and clearing user overrides.

Computing and merging overrides needs the plugins and the secrets key, so that stays on
the conductor; these are the plain database reads and writes of ``/v1/helm_charts``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sysinv_common.db.models import AppChart
from sysinv_common.db.queries.apps import app_named


def app_id_of(s: Session, app_name: str | None) -> int:
    return app_named(s, app_name).id


def list_charts(s: Session, app_name: str | None) -> list[dict[str, Any]]:
    """One entry per chart: its namespaces and, per namespace, whether it is enabled."""
    rows = s.scalars(
        select(AppChart)
        .where(AppChart.app_id == app_id_of(s, app_name))
        .order_by(AppChart.chart_name, AppChart.namespace)
    ).all()
    by_chart: dict[str, list[AppChart]] = defaultdict(list)
    for row in rows:
        by_chart[row.chart_name].append(row)
    return [
        {
            "name": chart,
            "namespaces": [r.namespace for r in chart_rows],
            "enabled": [r.enabled for r in chart_rows],
        }
        for chart, chart_rows in sorted(by_chart.items())
    ]


def clear_user_overrides(s: Session, app_name: str, chart: str, namespace: str) -> None:
    """As sysinv: clearing overrides that do not exist is not an error."""
    row = s.scalars(
        select(AppChart).where(
            AppChart.app_id == app_id_of(s, app_name),
            AppChart.chart_name == chart,
            AppChart.namespace == namespace,
        )
    ).first()
    if row is not None:
        row.user_overrides = None
