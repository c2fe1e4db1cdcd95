"""A chart's row id: application, chart and namespace in one URL-safe string."""

from __future__ import annotations

SEP = "~"


def chart_id(app: str, chart: str, namespace: str) -> str:
    # None of the three may hold "~": application names, chart names and namespaces are
    # DNS-like (Kubernetes and Helm rules).
    return SEP.join((app, chart, namespace))


def split_id(row_id: str) -> tuple[str, str, str]:
    app, chart, namespace = row_id.split(SEP, 2)
    return app, chart, namespace
