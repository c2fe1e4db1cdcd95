"""An application's extracted bundle on this conductor, its charts in this conductor's
chart repository, and reading its Armada manifest.

The extracted copy is a cache: the bundle's bytes live in the database, so a conductor on
another host (or this one after losing its disk) rebuilds the copy on first use. A copy
appears under its final name only once complete (extracted beside it, then renamed), so
its existence means it is whole.

The chart repository is a cache too: the database says which archive each file name
stands for and which application versions hold it (``sysinv_common.apps.chart_archives``),
so every conductor refuses, stores and deletes alike. An application version holds its
archives before they are copied, and a differing archive is refused before anything is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from armada.documents import ArmadaValidationError, DocumentSet, load_documents
from sysinv_common.apps import bundle_store, chart_archives
from sysinv_common.db.models import App
from sysinv_common.errors import InvalidInput
from sysinv_conductor.bundle.charts import ChartInfo, check_charts, prune_repo, store_charts
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


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _archives(bundle: Bundle, infos: Iterable[ChartInfo]) -> list[chart_archives.Archive]:
    return [
        chart_archives.Archive(
            i.repo_file_name,
            _sha256(i.archive),
            f"chart {i.name} {i.version} from {i.archive.relative_to(bundle.root)}",
        )
        for i in infos
    ]


def _hold(
    ctx: ConductorContext, app_id: int, version: str, archives: list[chart_archives.Archive]
) -> list[str]:
    for attempt in range(3):
        try:
            with ctx.db.session() as s:
                return chart_archives.hold(s, app_id, version, archives)
        except IntegrityError:
            # Another conductor recorded one of these names (or dropped it) meanwhile:
            # decide again on what it committed.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def store_bundle_charts(
    ctx: ConductorContext, bundle: Bundle, app_id: int, version: str
) -> tuple[ChartInfo, ...]:
    """Lint the bundle's charts, record that this app version holds them, and put them in
    this conductor's chart repository.

    An archive whose name stands for other bytes that another app version holds is a
    :class:`Conflict` naming it, the holder and what to do, raised before anything is
    recorded or copied. If the copy fails, the holds it added are dropped again.
    """
    helm, env = ctx.settings.apps.helm_binary, helm_env(ctx)
    infos = check_charts(helm, bundle.charts, env=env, limits=helm_limits(ctx),
                         tmp_parent=work_dir(ctx))  # fmt: skip
    archives = _archives(bundle, infos)
    adopt_unrecorded(ctx)
    added = _hold(ctx, app_id, version, archives)
    try:
        # The database approved every archive: one this repository has with other bytes
        # is a leftover nobody holds (another conductor dropped it), so it is replaced.
        store_charts(helm, infos, ctx.settings.chart_repo, env=env, replace=True)
    except BaseException:
        with ctx.db.session() as s:
            chart_archives.release(s, app_id, version, added)
        raise
    return infos


def release_charts(ctx: ConductorContext, app_id: int, version: str) -> None:
    """An upload that failed: the app version holds nothing; what nobody holds goes."""
    with ctx.db.session() as s:
        chart_archives.release(s, app_id, version)
    prune_chart_repo(ctx)


def adopt_unrecorded(ctx: ConductorContext) -> None:
    """Record the archives this conductor's chart repository had before the database
    listed them (a sysinv before it did): each for the extracted app versions whose
    bundle has the same bytes. One that no extracted app version has is a leftover, and
    the next prune deletes it."""
    repo = ctx.settings.chart_repo
    if not repo.is_dir():
        return
    with ctx.db.session() as s:
        known = chart_archives.listed(s)
    unknown = [p for p in sorted(repo.glob("*.tgz")) if p.name not in known]
    if not unknown:
        return
    by_size: dict[int, list[Path]] = {}
    for path in ctx.settings.apps_dir.glob("*/*/charts/*.tgz"):
        by_size.setdefault(path.stat().st_size, []).append(path)
    with ctx.db.session() as s:
        apps = {a.name: a for a in s.scalars(select(App))}
        for path in unknown:
            digest = _sha256(path)
            held_by: set[tuple[int, str]] = set()
            for candidate in by_size.get(path.stat().st_size, []):
                name, version = candidate.parts[-4], candidate.parts[-3]
                app = apps.get(name)
                if app is None or version not in (app.app_version, app.target_version):
                    continue
                if _sha256(candidate) == digest:
                    held_by.add((app.id, version))
            if held_by and chart_archives.adopt(s, path.name, digest, sorted(held_by)):
                names = {a.id: a.name for a in apps.values()}
                LOG.info("chart repository: %s recorded as held by %s", path.name,
                         ", ".join(f"{names[i]} {v}" for i, v in sorted(held_by)))  # fmt: skip


def prune_chart_repo(ctx: ConductorContext) -> None:
    """Drop the archives no app version holds any more: from the database, then from this
    conductor's chart repository, which keeps exactly what the database lists. Other
    conductors' repositories lose theirs at their next prune; until then a leftover is
    replaced by whatever the database approves under its name."""
    try:
        adopt_unrecorded(ctx)
        with ctx.db.session() as s:
            chart_archives.prune(s)
    except IntegrityError as exc:
        # A hold taken meanwhile on an archive being dropped: it stays; the next prune
        # decides again.
        LOG.warning("chart archives not pruned this time: %s", exc.orig)
        return
    except Exception:
        # Pruning follows a change already made (a delete, an update): it must not undo
        # or fail it. What is left is pruned next time.
        LOG.exception("chart archives not pruned this time")
        return

    def keep() -> set[str]:
        with ctx.db.session() as s:
            return chart_archives.listed(s)

    try:
        prune_repo(ctx.settings.apps.helm_binary, ctx.settings.chart_repo, keep,
                   env=helm_env(ctx))  # fmt: skip
    except Exception as exc:
        LOG.warning("chart repository %s not pruned: %s", ctx.settings.chart_repo, exc)


def remove_extracted(ctx: ConductorContext, name: str, version: str) -> None:
    """Remove the app version's extracted copy from this conductor."""
    shutil.rmtree(app_dir(ctx, name, version), ignore_errors=True)


def ensure_extracted(
    ctx: ConductorContext, app_id: int, name: str, version: str, digest: str | None
) -> Path:
    """The app's extracted directory, rebuilt from the database when this conductor has
    none, its charts then stored in this conductor's chart repository."""
    dest = app_dir(ctx, name, version)
    if dest.is_dir():
        return dest
    if not digest:
        raise InvalidInput(f"Application {name} {version} has no stored bundle")
    LOG.info("application %s %s: extracting its stored bundle on this conductor", name, version)
    bundle = extract(ctx, digest, dest, name, version)
    try:
        store_bundle_charts(ctx, bundle, app_id, version)
    except BaseException:
        # Not left looking whole: the next use tries again.
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest


def forget(ctx: ConductorContext, digest: str | None) -> None:
    """Drop a bundle no app refers to any more: its rows, and this conductor's copy."""
    if not digest:
        return
    with ctx.db.session() as s:
        gone = bundle_store.forget(s, digest)
    if gone:
        (ctx.settings.bundle_cache / f"{digest}.tgz").unlink(missing_ok=True)
