"""The plan of an apply or a remove: what it would change, chart by chart, changing nothing.

Each chart's release is read from helm (``helm get``) and the chart rendered by helm
against the live cluster with a server-side dry run; the overrides are generated from
the same model snapshot an apply would use, but no secret is generated (one not yet
generated shows as masked, as every secret does) and no row, release or object is
written.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from armada.deployers.helm import HelmDeployer
from armada.deployers.helm_render import Deployed, HelmRenderer, HelmRenderError
from armada.documents import DocumentSet
from armada.plan import Plan, PlannedChart, build_plan
from helm_overrides.snapshot import SecretRef
from sysinv_common.apps import bundle_store
from sysinv_common.db.models import AppChart
from sysinv_common.db.queries.apps import app_for
from sysinv_common.errors import InvalidInput, KubeOperationFailed
from sysinv_common.messaging.rpcapi import (
    AppPlan,
    AppPlanRequest,
    ChartPlan,
    PlanFieldChange,
    PlanObjectChange,
    PlanValueChange,
)
from sysinv_conductor.bundle.reader import unpack
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.deployers import make_deployer, work_dir
from sysinv_conductor.flows import apps as app_flows
from sysinv_conductor.flows import helm_charts
from sysinv_conductor.flows.app_files import load_manifest
from sysinv_conductor.flows.operation import AppSnapshot
from sysinv_conductor.overrides.generate import ChartOverrides
from sysinv_conductor.overrides.secrets import secret_names, substitute
from sysinv_conductor.plan.diff import (
    MASK,
    Change,
    ObjectChange,
    changes,
    has_path,
    manifest_changes,
    mask,
)

LOG = logging.getLogger(__name__)

OPERATIONS = ("apply", "remove", "update")
#: What a secret not generated yet renders as in a plan (an apply generates it first).
NOT_GENERATED = "not-generated-yet"


def plan(ctx: ConductorContext, req: AppPlanRequest) -> AppPlan:
    """What ``req.operation`` of app ``req.name`` would change; read-only.

    InvalidInput: an unknown operation or app, an app not uploaded, no helm deployer, an
    update's bundle unreadable or of another app; KubeOperationFailed: helm could not
    read a release or render a chart.
    """
    name, operation = req.name, req.operation
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
    if operation == "update" and not req.tarfile:
        raise InvalidInput(
            "Application-update dry run rejected: name the new version's bundle (tarfile: a "
            "path under the import directories, or a URL)"
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
    target = None
    try:
        if operation == "apply":
            charts = _apply(ctx, app, renderer)
        elif operation == "remove":
            charts = _remove(ctx, app, renderer)
        else:
            target, charts = _update(ctx, app, renderer, req)
    except HelmRenderError as exc:
        raise KubeOperationFailed(
            f"Application-{operation} dry run of {name} failed: {exc}"
        ) from None
    LOG.info("application %s: %s planned (%s), %d chart(s): %s", name, operation,
             target or app.version, len(charts),
             ", ".join(f"{c.chart} {c.action}" for c in charts))  # fmt: skip
    return AppPlan(name=app.name, operation=operation, app_version=app.version,
                   target_version=target, charts=charts)  # fmt: skip


@dataclass(frozen=True)
class _Deploy:
    """What a deploy would run: its plan (secrets in clear, for helm alone), each chart
    document's overrides and values with secret references, the secrets' values."""

    plan: Plan
    overrides: dict[str, ChartOverrides]
    refs: dict[str, dict[str, Any]]
    secrets: list[str]


def _deploy(
    ctx: ConductorContext, app: AppSnapshot, renderer: HelmRenderer, operation: str,
    docs: DocumentSet, charts_dir: Path, manifest: str | None, user_overrides: bool = True,
    attributes: bool = True,
) -> _Deploy:  # fmt: skip
    """The plan a deploy of ``docs`` would run, as the apply and the update build it, but
    generating no secret: one not generated yet renders as a placeholder."""
    # deploying=True: what the deploy would refuse (labels nobody carries, charts not
    # configured), the plan refuses with the same words.
    generated = helm_charts.generate(ctx, app, docs, charts_dir, manifest,
                                     user_overrides=user_overrides, attributes=attributes,
                                     deploying=True, ensure_secrets=False)  # fmt: skip
    refs = helm_charts.deploy_values(generated)
    names = secret_names(refs)
    plain = ctx.secrets.stored(names)
    shown = {n: plain.get(n, NOT_GENERATED) for n in names}
    values = {doc: substitute(v, shown) for doc, v in refs.items()}
    disabled: set[str] = set()
    if attributes:
        with ctx.db.read_session() as s:
            rows = s.scalars(select(AppChart).where(AppChart.app_id == app.id))
            disabled = {c.chart_name for c in rows if not c.enabled}
    chosen = build_plan(docs, charts_dir, values=values, disabled=disabled,
                        manifest=manifest, owner=app.name)  # fmt: skip
    # A release of another application: the deploy would be refused, and so is its plan.
    app_flows.check_release_owners(ctx, app.id, chosen, renderer.helm, operation)
    return _Deploy(chosen, {co.doc_name: co for co in generated}, refs, list(plain.values()))


def _charts_of(d: _Deploy, renderer: HelmRenderer) -> list[ChartPlan]:
    return _each(
        d.plan.charts,
        lambda pc: _chart_apply(
            pc, renderer, d.overrides.get(pc.chart.name), d.refs.get(pc.chart.name), d.secrets
        ),
        renderer,
    )


def _each(
    charts: list[PlannedChart], one: Callable[[PlannedChart], ChartPlan], renderer: HelmRenderer
) -> list[ChartPlan]:
    """``one`` of every chart, in their order, as many at once as an apply runs charts
    (``apps.chart_concurrency``): each is a few helm reads, independent of the others."""
    if len(charts) < 2:
        return [one(pc) for pc in charts]
    workers = min(renderer.helm.concurrency, len(charts))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plan") as pool:
        return list(pool.map(one, charts))


def _apply(ctx: ConductorContext, app: AppSnapshot, renderer: HelmRenderer) -> list[ChartPlan]:
    root = app_flows.extracted(ctx, app)
    docs = load_manifest(root / (app.manifest_file or ""))
    d = _deploy(ctx, app, renderer, "apply", docs, root / "charts", app.manifest_name)
    # After a successful apply, the releases of charts disabled since are uninstalled.
    gone = app_flows.disabled_releases(ctx, app, d.plan).charts
    return _charts_of(d, renderer) + _removals(gone, renderer, "disabled")


def _update(
    ctx: ConductorContext, app: AppSnapshot, renderer: HelmRenderer, req: AppPlanRequest
) -> tuple[str, list[ChartPlan]]:
    """The update to the bundle ``req.tarfile`` names, read into a private directory that
    goes with the plan (no row, no chart repository entry, no image is written)."""
    assert req.tarfile
    cfg = ctx.settings.apps
    if req.tarfile.startswith(("http://", "https://")):
        receive = bundle_store.receive_url(
            req.tarfile, cfg.max_bundle_bytes, cfg.url_fetch_timeout, cfg.url_allowed_hosts
        )
    else:
        receive = bundle_store.receive_local_file(req.tarfile, ctx.settings.import_dirs,
                                                  cfg.max_bundle_bytes)  # fmt: skip
    parent = work_dir(ctx)
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with receive as spooled, tempfile.TemporaryDirectory(prefix="plan-", dir=parent) as tmp:
        bundle = unpack(spooled.path, Path(tmp) / "bundle", limits=cfg.extract_limits(),
                        expect_name=app.name,
                        max_metadata_bytes=cfg.max_metadata_bytes)  # fmt: skip
        docs = load_manifest(bundle.manifest)
        meta = bundle.metadata
        # As the update itself: the request decides, else the new bundle's metadata.
        reuse = (meta.maintain_user_overrides if req.reuse_user_overrides is None
                 else req.reuse_user_overrides)  # fmt: skip
        keep = meta.maintain_attributes if req.reuse_attributes is None else req.reuse_attributes
        d = _deploy(ctx, app, renderer, "update", docs, bundle.root / "charts",
                    docs.manifest().name, user_overrides=reuse, attributes=keep)  # fmt: skip
        charts = _charts_of(d, renderer)
        # After the new version deployed, the releases only the old one had are removed.
        gone = app_flows.only_in(app_flows.documents_plan(ctx, app), d.plan).charts
        charts += _removals(gone, renderer, f"not in {meta.version}")
        return meta.version, charts


def _remove(ctx: ConductorContext, app: AppSnapshot, renderer: HelmRenderer) -> list[ChartPlan]:
    every = app_flows.documents_plan(ctx, app)  # the remove's own plan: no values
    # As the remove: another application's releases are left alone.
    owners = app_flows.release_owners(ctx, app.id, every, renderer.helm)
    theirs = [pc for pc in every.charts if (pc.release, pc.namespace) in owners]
    ours = [pc for pc in every.charts if (pc.release, pc.namespace) not in owners]
    # A remove uninstalls in reverse order.
    planned = _removals(list(reversed(ours)), renderer, "remove")
    return planned + [
        _chart(pc, "unchanged", reason=f"belongs to {owners[(pc.release, pc.namespace)]}")
        for pc in theirs
    ]


def _removals(charts: list[PlannedChart], renderer: HelmRenderer, reason: str) -> list[ChartPlan]:
    """Uninstalls: every object of each release removed (listed, their fields not shown,
    so no value of the release needs masking)."""

    def one(pc: PlannedChart) -> ChartPlan:
        deployed = renderer.deployed(pc)
        if deployed is None:
            return _chart(pc, "unchanged", reason="not installed")
        objs = manifest_changes(deployed.manifest, "", pc.namespace)
        return _chart(pc, "remove", deployed, reason=reason, objects=[_object(o) for o in objs])

    return _each(charts, one, renderer)


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


def _object(o: ObjectChange) -> PlanObjectChange:
    return PlanObjectChange(
        api_version=o.key.api_version, kind=o.key.kind, namespace=o.key.namespace,
        name=o.key.name, change=o.kind,
        fields=[PlanFieldChange(path=f.path, old=f.old, new=f.new) for f in o.fields],
    )  # fmt: skip
