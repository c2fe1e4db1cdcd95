"""Plan order, release names, values and disabled charts."""

from __future__ import annotations

from pathlib import Path

from armada.documents import load_documents
from armada.plan import build_plan


def test_plan_order_names_archives(manifest_text: str, tmp_path: Path) -> None:
    plan = build_plan(load_documents(manifest_text), tmp_path)
    assert plan.manifest == "app-manifest" and plan.release_prefix == "app"
    assert [(g.name, g.sequenced) for g in plan.groups] == [("base", True), ("workers", False)]
    assert [c.chart.name for c in plan.charts] == ["db", "web", "worker-a", "worker-b", "worker-c"]
    assert [c.release for c in plan.charts] == [
        "app-db",
        "app-web",
        "app-worker-a",
        "app-worker-b",
        "app-worker-c",
    ]
    assert plan.charts[0].archive == tmp_path / "mariadb-1.0.0.tgz"
    assert plan.charts[0].namespace == "infra"
    assert plan.charts[1].values == {"image": {"tag": "1.0"}, "hosts": ["a", "b"]}


def test_values_replace_chart_values(manifest_text: str, tmp_path: Path) -> None:
    docs = load_documents(manifest_text)
    plan = build_plan(docs, tmp_path, values={"db": {"replicas": 3}})
    assert plan.charts[0].values == {"replicas": 3}
    assert plan.charts[1].values == docs.charts["web"].values
    # The plan holds copies: changing them leaves the documents alone.
    plan.charts[1].values["hosts"].append("z")
    assert docs.charts["web"].values["hosts"] == ["a", "b"]


def test_disabled_by_document_or_chart_name(manifest_text: str, tmp_path: Path) -> None:
    docs = load_documents(manifest_text)
    plan = build_plan(docs, tmp_path, disabled={"web", "mariadb"})
    assert [g.name for g in plan.groups] == ["workers"]  # empty group dropped
    # chart_name of worker-b and worker-c, and of the v2 worker-a (from its archive name)
    plan = build_plan(docs, tmp_path, disabled=["worker"])
    assert [c.chart.name for c in plan.charts] == ["db", "web"]
    plan = build_plan(docs, tmp_path, disabled=["worker-b"])
    assert [c.chart.name for c in plan.charts] == ["db", "web", "worker-a", "worker-c"]
