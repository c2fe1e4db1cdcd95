"""An application's extracted bundle on this conductor, and reading its Armada manifest.

The extracted copy is a cache: the bundle's bytes live in the database, so a conductor on
another host (or this one after losing its disk) rebuilds the copy on first use. A copy
appears under its final name only once complete (extracted beside it, then renamed), so
its existence means it is whole.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

from armada.documents import ArmadaValidationError, DocumentSet, load_documents
from sysinv_common.apps import bundle_store
from sysinv_common.errors import InvalidInput
from sysinv_conductor.bundle.charts import ChartInfo, check_charts, remove_charts, store_charts
from sysinv_conductor.bundle.reader import Bundle, unpack
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.deployers import helm_env, helm_limits, work_dir

LOG = logging.getLogger(__name__)


def app_dir(ctx: ConductorContext, name: str, version: str) -> Path:
    return ctx.settings.apps_dir / name / version


def load_manifest(manifest: Path) -> DocumentSet:
    try:
        return load_documents(manifest.read_text(encoding="utf-8"))
    except ArmadaValidationError as exc:
        raise InvalidInput(f"invalid Armada manifest {manifest.name}: {exc}") from None


def tarball(ctx: ConductorContext, digest: str) -> Path:
    """The bundle's bytes on this conductor's disk, fetched from the database if needed."""
    with ctx.db.session() as s:
        return bundle_store.fetch(s, digest, ctx.settings.bundle_cache / f"{digest}.tgz")


def extract(ctx: ConductorContext, digest: str, dest: Path, name: str, version: str) -> Bundle:
    """Extract the stored bundle into ``dest`` all at once: beside it, then renamed."""
    work = dest.parent / f".extract-{uuid.uuid4().hex}"
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    unpack(
        tarball(ctx, digest), work, limits=ctx.settings.apps.extract_limits(),
        expect_name=name, expect_version=version,
        max_metadata_bytes=ctx.settings.apps.max_metadata_bytes,
    )  # fmt: skip
    try:
        if dest.exists():
            shutil.rmtree(dest)
        os.rename(work, dest)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
        if not dest.is_dir():
            raise
        # Another thread of this conductor extracted the same bundle first: theirs stands.
    return Bundle.open(dest, expect_name=name, expect_version=version,
                       max_metadata_bytes=ctx.settings.apps.max_metadata_bytes)  # fmt: skip


def store_bundle_charts(ctx: ConductorContext, bundle: Bundle) -> tuple[ChartInfo, ...]:
    """Lint the bundle's charts and put them in this conductor's chart repository."""
    helm, env = ctx.settings.apps.helm_binary, helm_env(ctx)
    infos = check_charts(helm, bundle.charts, env=env, limits=helm_limits(ctx),
                         tmp_parent=work_dir(ctx))  # fmt: skip
    store_charts(helm, infos, ctx.settings.chart_repo, env=env, replace=True)
    return infos


def remove_extracted(ctx: ConductorContext, name: str, version: str) -> None:
    """Remove the app's extracted copy and, from the chart repository, the chart archives
    no other extracted app on this conductor has (the repository would only grow)."""
    dest = app_dir(ctx, name, version)
    if not dest.is_dir():
        return
    mine = {p.name for p in (dest / "charts").glob("*.tgz")}
    others = {
        p.name for p in ctx.settings.apps_dir.glob("*/*/charts/*.tgz") if not p.is_relative_to(dest)
    }
    shutil.rmtree(dest, ignore_errors=True)
    # A bundle's archive names are the repository's (name-version.tgz) when it follows
    # helm package; anything else was never stored under that name and is skipped.
    stored = {n for n in mine - others if (ctx.settings.chart_repo / n).is_file()}
    if stored:
        try:
            remove_charts(ctx.settings.apps.helm_binary, ctx.settings.chart_repo, sorted(stored),
                          env=helm_env(ctx))  # fmt: skip
        except Exception as exc:
            LOG.warning("chart repository: %s not removed: %s", ", ".join(sorted(stored)), exc)


def ensure_extracted(ctx: ConductorContext, name: str, version: str, digest: str | None) -> Path:
    """The app's extracted directory, rebuilt from the database when this conductor has
    none, its charts then stored in this conductor's chart repository."""
    dest = app_dir(ctx, name, version)
    if dest.is_dir():
        return dest
    if not digest:
        raise InvalidInput(f"Application {name} {version} has no stored bundle")
    LOG.info("application %s %s: extracting its stored bundle on this conductor", name, version)
    store_bundle_charts(ctx, extract(ctx, digest, dest, name, version))
    return dest


def forget(ctx: ConductorContext, digest: str | None) -> None:
    """Drop a bundle no app refers to any more: its rows, and this conductor's copy."""
    if not digest:
        return
    with ctx.db.session() as s:
        gone = bundle_store.forget(s, digest)
    if gone:
        (ctx.settings.bundle_cache / f"{digest}.tgz").unlink(missing_ok=True)
