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
from collections.abc import Callable
from pathlib import Path

from armada.documents import ArmadaValidationError, DocumentSet, load_documents
from sysinv_common.apps import bundle_store
from sysinv_common.errors import InvalidInput
from sysinv_conductor.bundle.reader import Bundle, unpack
from sysinv_conductor.context import ConductorContext

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
        tarball(ctx, digest), work, expect_name=name, expect_version=version,
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


def ensure_extracted(
    ctx: ConductorContext,
    name: str,
    version: str,
    digest: str | None,
    prepare: Callable[[Bundle], object] | None = None,
) -> Path:
    """The app's extracted directory, rebuilt from the database when this conductor has
    none (``prepare`` then runs on the new copy, e.g. storing its charts)."""
    dest = app_dir(ctx, name, version)
    if dest.is_dir():
        return dest
    if not digest:
        raise InvalidInput(f"Application {name} {version} has no stored bundle")
    LOG.info("application %s %s: extracting its stored bundle on this conductor", name, version)
    bundle = extract(ctx, digest, dest, name, version)
    if prepare is not None:
        prepare(bundle)
    return dest


def forget(ctx: ConductorContext, digest: str | None) -> None:
    """Drop a bundle no app refers to any more: its rows, and this conductor's copy."""
    if not digest:
        return
    with ctx.db.session() as s:
        gone = bundle_store.forget(s, digest)
    if gone:
        (ctx.settings.bundle_cache / f"{digest}.tgz").unlink(missing_ok=True)
