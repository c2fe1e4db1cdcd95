"""The plan of an apply or a remove: what it would change, chart by chart, changing nothing.

Each chart's release is read from helm (``helm get``) and the chart rendered by helm
against the live cluster with a server-side dry run; the overrides are generated from
the same model snapshot an apply would use, but no secret is generated (one not yet
generated shows as masked, as every secret does) and no row, release or object is
written.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from armada.deployers.helm import HelmDeployer
from armada.deployers.helm_render import Deployed, HelmRenderer, HelmRenderError
from armada.plan import PlannedChart, build_plan
from helm_overrides.snapshot import SecretRef
from sysinv_common.db.models import AppChart
from sysinv_common.db.queries.apps import app_for
from sysinv_common.errors import InvalidInput, KubeOperationFailed
from sysinv_common.messaging.rpcapi import (
    AppPlan,
    ChartPlan,
    PlanFieldChange,
    PlanObjectChange,
    PlanValueChange,
)
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.deployers import make_deployer
from sysinv_conductor.flows import apps as app_flows
from sysinv_conductor.flows import helm_charts
from sysinv_conductor.flows.app_files import load_manifest
from sysinv_conductor.flows.operation import AppSnapshot
from sysinv_conductor.overrides.generate import ChartOverrides
from sysinv_conductor.overrides.secrets import secret_names
from sysinv_conductor.plan.diff import MASK, Change, changes, has_path, manifest_changes, mask

LOG = logging.getLogger(__name__)

OPERATIONS = ("apply", "remove")
#: What a secret not generated yet renders as in a plan (an apply generates it first).
NOT_GENERATED = "not-generated-yet"


def plan(ctx: ConductorContext, name: str, operation: str) -> AppPlan:
    """What ``operation`` of app ``name`` would change; read-only.

    InvalidInput: an unknown operation or app, an app not uploaded, no helm deployer;
    KubeOperationFailed: helm could not read a release or render a chart.
    """
    if operation not in OPERATIONS:
        raise InvalidInput(
            f"Application plan rejected: unknown operation '{operation}' "
            f"(one of: {', '.join(OPERATIONS)})"
        )
    with ctx.db.read_session() as s:
        app = AppSnapshot.of(app_for(s, name, operation))
    if not app.manifest_file:
        raise InvalidInput(
            f"Application-{operation} dry run rejected: {name} has no charts yet (upload it first)"
        )
    if not ctx.settings.kubernetes.kubeconfig:
        raise InvalidInput(
            f"Application-{operation} dry run rejected: no Kubernetes cluster configured "
            "(kubernetes.kubeconfig)"
        )
    deployer = make_deployer(ctx)
    if not isinstance(deployer, HelmDeployer):
        raise InvalidInput(
            f"Application-{operation} dry run rejected: it needs the helm deployer "
            "(apps.deployer: helm); armada apply has no dry run"
        )
    renderer = HelmRenderer(deployer)
    compute = _apply if operation == "apply" else _remove
    try:
        charts = compute(ctx, app, renderer)
    except HelmRenderError as exc:
        raise KubeOperationFailed(
            f"Application-{operation} dry run of {name} failed: {exc}"
        ) from None
    return AppPlan(name=app.name, operation=operation, app_version=app.version, charts=charts)


def _apply(ctx: ConductorContext, app: AppSnapshot, renderer: HelmRenderer) -> list[ChartPlan]:
    root = app_flows.extracted(ctx, app)
    docs = load_manifest(root / (app.manifest_file or ""))
    generated = helm_charts.generate(ctx, app, docs, root / "charts", app.manifest_name,
                                     ensure_secrets=False)  # fmt: skip
    refs = helm_charts.deploy_values(generated)
    names = secret_names(refs)
    plain = ctx.secrets.stored(names)
    shown = {n: plain.get(n, NOT_GENERATED) for n in names}
    values = {doc: _substitute(v, shown) for doc, v in refs.items()}
    with ctx.db.read_session() as s:
        disabled = {
            c.chart_name
            for c in s.scalars(select(AppChart).where(AppChart.app_id == app.id))
            if not c.enabled
        }
    chosen = build_plan(docs, root / "charts", values=values, disabled=disabled,
                        manifest=app.manifest_name, owner=app.name)  # fmt: skip
    by_doc = {co.doc_name: co for co in generated}
    secrets = list(plain.values())
    out = [
        _chart_apply(pc, renderer, by_doc.get(pc.chart.name), refs.get(pc.chart.name), secrets)
        for pc in chosen.charts
    ]
    # After a successful apply, the releases of charts disabled since are uninstalled.
    out += _removals(app_flows.disabled_releases(ctx, app, chosen).charts, renderer, "disabled")
    return out


def _remove(ctx: ConductorContext, app: AppSnapshot, renderer: HelmRenderer) -> list[ChartPlan]:
    every = app_flows._plan(ctx, app)  # the remove's own plan: documents, no values
    # A remove uninstalls in reverse order.
    return _removals(list(reversed(every.charts)), renderer, "remove")


def _removals(charts: list[PlannedChart], renderer: HelmRenderer, reason: str) -> list[ChartPlan]:
    """Uninstalls: every object of each release removed (listed, their fields not shown,
    so no value of the release needs masking)."""
    out: list[ChartPlan] = []
    for pc in charts:
        deployed = renderer.deployed(pc)
        if deployed is None:
            out.append(_chart(pc, "unchanged", reason="not installed"))
            continue
        objs = manifest_changes(deployed.manifest, "", pc.namespace)
        out.append(
            _chart(pc, "remove", deployed, reason=reason, objects=[_object(o) for o in objs])
        )
    return out


def _chart_apply(
    pc: PlannedChart, renderer: HelmRenderer, co: ChartOverrides | None,
    refs: dict[str, Any] | None, secrets: list[str],
) -> ChartPlan:  # fmt: skip
    deployed = renderer.deployed(pc)
    rendered = renderer.render(pc)
    old_values = deployed.values if deployed is not None else {}
    overrides = [_value_change(c, co, refs, secrets) for c in changes(old_values, pc.values)]
    objs = manifest_changes(deployed.manifest if deployed else "", rendered.manifest,
                            pc.namespace, secrets)  # fmt: skip
    if deployed is None:
        action = "install"
    elif overrides or objs or deployed.chart_version != rendered.chart_version:
        action = "upgrade"
    elif deployed.status != "deployed":
        action = "upgrade"  # a failed or pending release is upgraded again
    else:
        action = "unchanged"
    return _chart(pc, action, deployed, chart_version=rendered.chart_version,
                  overrides=overrides, objects=[_object(o) for o in objs])  # fmt: skip


def _value_change(
    c: Change, co: ChartOverrides | None, refs: dict[str, Any] | None, secrets: list[str]
) -> PlanValueChange:
    source = "previous"
    if co is not None and c.new is not None:
        if has_path(co.user, c.path):
            source = "user"
        elif has_path(co.system, c.path):
            source = "system"
        else:
            source = "chart"
    old, new = mask(c.old, secrets), mask(c.new, secrets)
    if refs is not None and _is_secret(refs, c.path):
        old, new = (MASK if old is not None else None), MASK
    return PlanValueChange(path=c.path, source=source, change=c.kind, old=old, new=new)


def _is_secret(refs: dict[str, Any], path: str) -> bool:
    """Whether ``path`` of the values (with references) is, or is under, a secret."""
    node: Any = refs
    for part in path.replace("[", ".[").split("."):
        if not part:
            continue
        if isinstance(node, SecretRef):
            return True
        if part.startswith("[") and isinstance(node, list):
            i = int(part[1:-1])
            node = node[i] if i < len(node) else None
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return False
    return isinstance(node, SecretRef) or bool(secret_names(node))


def _substitute(values: Any, plain: dict[str, str]) -> Any:
    if isinstance(values, SecretRef):
        return plain[values.name]
    if isinstance(values, dict):
        return {k: _substitute(v, plain) for k, v in values.items()}
    if isinstance(values, list):
        return [_substitute(v, plain) for v in values]
    return values


def _chart(
    pc: PlannedChart, action: str, deployed: Deployed | None = None, *,
    reason: str | None = None, chart_version: str | None = None,
    overrides: list[PlanValueChange] | None = None,
    objects: list[PlanObjectChange] | None = None,
) -> ChartPlan:  # fmt: skip
    return ChartPlan(
        chart=pc.chart.name, release=pc.release, namespace=pc.namespace, action=action,
        reason=reason, deployed_revision=deployed.revision if deployed else None,
        deployed_chart_version=deployed.chart_version if deployed else None,
        chart_version=chart_version, overrides=overrides or [], objects=objects or [],
    )  # fmt: skip


def _object(o: Any) -> PlanObjectChange:
    return PlanObjectChange(
        api_version=o.key.api_version, kind=o.key.kind, namespace=o.key.namespace,
        name=o.key.name, change=o.kind,
        fields=[PlanFieldChange(path=f.path, old=f.old, new=f.new) for f in o.fields],
    )  # fmt: skip
