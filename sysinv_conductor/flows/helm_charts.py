"""Helm overrides on the conductor: show, update user overrides, check and supply apply.

The API validates the request's shape and forwards here, because only the conductor
holds the override plugins and the secrets key (the API may not import either).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

import bounded_yaml
from armada.documents import DocumentSet
from helm_overrides.merge import merge_layers, merge_values
from helm_overrides.setvalues import SetValueError, parse_set
from helm_overrides.snapshot import ModelSnapshot
from sysinv_common.db.models import AppChart
from sysinv_common.db.queries.apps import app_named
from sysinv_common.errors import InvalidInput, InvalidState, NotFound
from sysinv_common.messaging.rpcapi import ChartOverrides as ChartOverridesOut
from sysinv_common.messaging.rpcapi import ChartShow, ChartUpdate, ChartUpdated
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows.app_files import ensure_extracted, load_manifest
from sysinv_conductor.flows.operation import AppSnapshot
from sysinv_conductor.overrides.generate import (
    ChartOverrides,
    ChartSettings,
    missing_labels,
    user_overrides_of,
)
from sysinv_conductor.overrides.secrets import (
    decode_refs,
    encode_refs,
    secret_names,
    substitute,
)
from sysinv_conductor.overrides.snapshot import build_snapshot

LOG = logging.getLogger(__name__)


def dump(values: dict[str, Any] | None) -> str | None:
    """Values as YAML, with no anchors or aliases: a shared sub-tree is written out again
    (the values were loaded within bounded_yaml's limits, so that is bounded too)."""
    if not values:
        return None
    return bounded_yaml.dump(values, default_flow_style=False, sort_keys=True)


def _settings(
    s: Session, app_id: int, user_overrides: bool = True, attributes: bool = True
) -> dict[tuple[str, str], ChartSettings]:
    rows = s.scalars(select(AppChart).where(AppChart.app_id == app_id)).all()
    return {
        (r.chart_name, r.namespace): ChartSettings(
            r.enabled or not attributes, r.user_overrides if user_overrides else None
        )
        for r in rows
    }


def generate(
    ctx: ConductorContext,
    app: AppSnapshot,
    docs: DocumentSet,
    charts_dir: Path,
    manifest: str | None = None,
    only: tuple[str, str] | None = None,
    user_overrides: bool = True,
    attributes: bool = True,
    deploying: bool = False,
    ensure_secrets: bool = True,
) -> list[ChartOverrides]:
    """Every chart's overrides from one snapshot of the model, with secrets generated.

    An update that keeps neither the operator's overrides nor the chart attributes passes
    ``user_overrides=False`` / ``attributes=False``: every chart enabled, no user values.
    ``deploying``: refuse (InvalidState) when an enabled chart needs labels nobody carries
    or is not configured, with the commands that fix it. ``ensure_secrets=False`` (a
    plan, which writes nothing): secrets not generated yet stay references, unstored.
    """
    with ctx.db.session() as s:
        snap = build_snapshot(s)
        settings = _settings(s, app.id, user_overrides, attributes)
    charts = ctx.overrides.generate(snap, app.name, docs, charts_dir, settings, manifest, only)
    if deploying:
        problems = _apply_problems(snap, charts)
        if problems:
            raise InvalidState("Application-apply rejected: " + " ".join(problems))
    if ensure_secrets:
        names: set[str] = set()
        for co in charts:
            names |= secret_names(co.system)
        ctx.secrets.ensure(names)
    return charts


def _apply_problems(snap: ModelSnapshot, charts: list[ChartOverrides]) -> list[str]:
    problems = missing_labels(snap, charts)
    for co in charts:
        if co.enabled and co.not_configured:
            problems.append(
                f"chart {co.chart} is {co.note}; configure it or disable it with "
                f"system helm-chart-attribute-modify <app> {co.chart} {co.namespace} "
                "--enabled false"
            )
    return problems


def deploy_values(charts: list[ChartOverrides]) -> dict[str, dict[str, Any]]:
    """Per enabled chart document: the values Helm gets above values.yaml, secrets as
    references."""
    return {co.doc_name: co.helm_values() for co in charts if co.enabled}


def resolve_secrets(
    ctx: ConductorContext, values: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """``values`` with each secret reference replaced by the secret, for Helm alone."""
    plain = ctx.secrets.values(secret_names(values))
    return {doc: substitute(v, plain) for doc, v in values.items()}


def to_wire(values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """JSON for the apply job: a secret travels as ``{"$secret": name}``, never its value."""
    return {doc: encode_refs(v) for doc, v in values.items()}


def from_wire(values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc: decode_refs(v) for doc, v in values.items()}


def _app_and_docs(ctx: ConductorContext, app_name: str) -> tuple[AppSnapshot, DocumentSet, Path]:
    with ctx.db.session() as s:
        app = AppSnapshot.of(app_named(s, app_name))
    if not app.manifest_file:
        raise InvalidState(f"Application {app_name} has no charts yet (it is not uploaded).")
    root = ensure_extracted(ctx, app.id, app.name, app.version, app.tarball_digest)
    return app, load_manifest(root / app.manifest_file), root / "charts"


def _chart_row(s: Session, app_id: int, app_name: str, chart: str, namespace: str) -> AppChart:
    row = s.scalars(
        select(AppChart).where(
            AppChart.app_id == app_id, AppChart.chart_name == chart, AppChart.namespace == namespace
        )
    ).first()
    if row is None:
        raise NotFound(f"Chart overrides {chart}:{namespace} for application {app_name} not found")
    return row


def show(ctx: ConductorContext, req: ChartShow) -> ChartOverridesOut:
    app_name, chart, namespace = req.app_name, req.chart, req.namespace
    app, docs, charts_dir = _app_and_docs(ctx, app_name)
    with ctx.db.session() as s:
        row = _chart_row(s, app.id, app_name, chart, namespace)
        enabled = row.enabled
    found = generate(ctx, app, docs, charts_dir, app.manifest_name, only=(chart, namespace))
    plain = None
    if found and req.show_secrets:
        plain = ctx.secrets.values(secret_names(found[0].system))
    co = found[0] if found else None
    system = substitute(co.system, plain) if co and co.system else None
    user = co.user if co else None
    combined = substitute(co.combined(), plain) if co else None
    return ChartOverridesOut(
        name=chart,
        namespace=namespace,
        attributes=dump({"enabled": enabled}),
        system_overrides=dump(system),
        user_overrides=dump(user),
        combined_overrides=dump(combined),
        system_overrides_note=co.note if co is not None and co.note else None,
    )


def _parse_files(files: list[str]) -> list[dict[str, Any]]:
    parsed: list[dict[str, Any]] = []
    for i, text in enumerate(files, 1):
        try:
            data = bounded_yaml.load(text)
        except bounded_yaml.YAMLLimitError as exc:
            raise InvalidInput(f"Invalid input: values file {i}: {exc}") from None
        except yaml.YAMLError as exc:
            raise InvalidInput(f"Invalid input: values file {i} is not valid YAML: {exc}") from None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise InvalidInput(
                f"Invalid input: values file {i} must be a YAML mapping, not a "
                f"{type(data).__name__}"
            )
        parsed.append(data)
    return parsed


def new_user_overrides(
    current: str | None, reuse: bool, reset: bool, files: list[str], sets: list[str],
    where: tuple[str, str, str] = ("<app>", "<chart>", "<namespace>"),
) -> str | None:  # fmt: skip
    """The stored user overrides after an update (sysinv's merge_overrides).

    ``where``: the (app, chart, namespace) named when the stored overrides are refused.
    The result is within bounded_yaml's depth limit and has no aliases.
    """
    if not files and not sets:
        return None if reset else current
    new = merge_layers(_parse_files(files))
    for expr in sets:
        try:
            parse_set(expr, new)
        except SetValueError as exc:
            raise InvalidInput(f"Invalid input: --set {expr}: {exc}") from None
    old = user_overrides_of(current, *where) if reuse else None
    result = merge_values(old, new) if old else new
    try:
        bounded_yaml.check_depth(result)
    except bounded_yaml.YAMLLimitError as exc:
        raise InvalidInput(f"Invalid input: the user overrides would be {exc}") from None
    return dump(result)


def update(ctx: ConductorContext, req: ChartUpdate) -> ChartUpdated:
    app_name, chart, namespace, flags = req.app_name, req.chart, req.namespace, req.flags
    files, sets, enabled = req.files, req.sets, req.enabled
    with ctx.db.session() as s:
        app = app_named(s, app_name)
        row = _chart_row(s, app.id, app_name, chart, namespace)
        out: dict[str, Any] = {"name": chart, "namespace": namespace}
        if files or sets or flags.get("reset_values"):
            row.user_overrides = new_user_overrides(
                row.user_overrides, flags.get("reuse_values", False),
                flags.get("reset_values", False), files, sets, (app_name, chart, namespace),
            )  # fmt: skip
            out["user_overrides"] = row.user_overrides
        if enabled is not None:
            row.enabled = enabled
            out["attributes"] = {"enabled": enabled}
        LOG.info(
            "application %s chart %s:%s: user overrides %s%s", app_name, chart, namespace,
            "updated" if "user_overrides" in out else "unchanged",
            f", enabled={enabled}" if enabled is not None else "",
        )  # fmt: skip
    return ChartUpdated(**out)
