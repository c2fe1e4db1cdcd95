"""Where an application's extracted bundle lives, and reading its Armada manifest."""

from __future__ import annotations

from pathlib import Path

from armada.documents import ArmadaValidationError, DocumentSet, load_documents
from sysinv_common.errors import InvalidInput
from sysinv_conductor.context import ConductorContext


def app_dir(ctx: ConductorContext, name: str, version: str) -> Path:
    return ctx.settings.apps_dir / name / version


def load_manifest(manifest: Path) -> DocumentSet:
    try:
        return load_documents(manifest.read_text(encoding="utf-8"))
    except ArmadaValidationError as exc:
        raise InvalidInput(f"invalid Armada manifest {manifest.name}: {exc}") from None
