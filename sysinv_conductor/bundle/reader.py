"""A read-only view of an extracted bundle: metadata, chart archives, manifest, images.

Layout (docs/app-bundle.md)::

    metadata.yaml            required
    charts/*.tgz             required, at least one; nothing else in charts/
    <manifest>.yaml          exactly one Armada manifest file, in the root or manifests/
    images/*                 optional image archives (pushed by the registry work)

The manifest is found by content, not by name: the one YAML file holding a document whose
``schema`` is ``armada/Manifest/v1`` or ``v2``. Its documents are validated by the
``armada`` package, not here; this module only locates the file.
"""

from __future__ import annotations

import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import bounded_yaml
from sysinv_common.apps import BundleError
from sysinv_common.apps.extract import ExtractLimits, extract_bundle
from sysinv_common.apps.metadata import (
    DEFAULT_MAX_BYTES,
    FILENAME,
    Metadata,
    load_metadata,
    read_metadata_from_tarball,
)

CHARTS_DIR = "charts"
IMAGES_DIR = "images"
MANIFESTS_DIR = "manifests"
CHART_SUFFIX = ".tgz"
YAML_SUFFIXES = (".yaml", ".yml")
MANIFEST_SCHEMAS = ("armada/Manifest/v1", "armada/Manifest/v2")
DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024

# A cheap first look, so that only likely manifests are parsed as YAML; the parse decides.
_SCHEMA_LINE = re.compile(rb"^\s*schema:\s*['\"]?armada/Manifest/v[12]\b", re.MULTILINE)


def _is_file(path: Path) -> bool:
    # lstat: a link is never "a file of the bundle", even if extraction could not make one.
    return stat.S_ISREG(path.lstat().st_mode)


def _is_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.lstat().st_mode)
    except FileNotFoundError:
        return False


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def find_charts(root: Path) -> tuple[Path, ...]:
    """The chart archives under ``charts/``, sorted by file name."""
    charts_dir = root / CHARTS_DIR
    if not _is_dir(charts_dir):
        raise BundleError(f"bundle has no {CHARTS_DIR}/ directory")
    charts: list[Path] = []
    for entry in sorted(charts_dir.iterdir()):
        if not (entry.name.endswith(CHART_SUFFIX) and _is_file(entry)):
            raise BundleError(
                f"{_rel(root, entry)} is not a chart archive ({CHARTS_DIR}/ holds only "
                f"*{CHART_SUFFIX} files made by `helm package`)"
            )
        charts.append(entry)
    if not charts:
        raise BundleError(f"bundle has no chart archives in {CHARTS_DIR}/")
    return tuple(charts)


def find_images(root: Path) -> tuple[Path, ...]:
    """The image archives under ``images/`` (absent directory: none), sorted."""
    images_dir = root / IMAGES_DIR
    if not _is_dir(images_dir):
        return ()
    images: list[Path] = []
    for entry in sorted(images_dir.iterdir()):
        if not _is_file(entry):
            raise BundleError(f"{_rel(root, entry)} is not an image archive file")
        images.append(entry)
    return tuple(images)


def _yaml_candidates(root: Path) -> list[Path]:
    out: list[Path] = []
    for folder in (root, root / MANIFESTS_DIR):
        if not _is_dir(folder):
            continue
        for entry in sorted(folder.iterdir()):
            if entry.name.endswith(YAML_SUFFIXES) and entry != root / FILENAME and _is_file(entry):
                out.append(entry)
    return out


def _holds_manifest(root: Path, path: Path, max_bytes: int) -> bool:
    size = path.lstat().st_size
    if size > max_bytes:
        raise BundleError(
            f"{_rel(root, path)} is {size} bytes, over the limit of {max_bytes} for YAML "
            "files in the bundle root and manifests/"
        )
    text = path.read_bytes()
    if not _SCHEMA_LINE.search(text):
        return False
    try:
        docs: list[Any] = list(bounded_yaml.load_all(text))
    except bounded_yaml.YAMLLimitError as exc:
        raise BundleError(f"{_rel(root, path)}: {exc}") from None
    except yaml.YAMLError as exc:
        raise BundleError(f"{_rel(root, path)} is not valid YAML: {exc}") from None
    return any(isinstance(d, dict) and d.get("schema") in MANIFEST_SCHEMAS for d in docs)


def find_manifest(root: Path, max_bytes: int = DEFAULT_MAX_MANIFEST_BYTES) -> Path:
    """The one YAML file in the root or ``manifests/`` holding an Armada Manifest."""
    found = [p for p in _yaml_candidates(root) if _holds_manifest(root, p, max_bytes)]
    if not found:
        raise BundleError(
            "bundle has no Armada manifest: a YAML file in the bundle root or "
            f"{MANIFESTS_DIR}/ with a document of schema {' or '.join(MANIFEST_SCHEMAS)}"
        )
    if len(found) > 1:
        names = ", ".join(_rel(root, p) for p in found)
        raise BundleError(f"bundle has more than one Armada manifest file: {names}")
    return found[0]


@dataclass(frozen=True)
class Bundle:
    """An extracted bundle whose layout has been checked (charts not yet linted)."""

    root: Path
    metadata: Metadata
    #: ``charts/*.tgz``, sorted by file name.
    charts: tuple[Path, ...]
    #: The Armada manifest file (validated later by the ``armada`` package).
    manifest: Path
    #: ``images/*``, sorted; empty when the bundle carries no images.
    images: tuple[Path, ...]

    @classmethod
    def open(
        cls,
        root: Path,
        *,
        expect_name: str | None = None,
        expect_version: str | None = None,
        max_metadata_bytes: int = DEFAULT_MAX_BYTES,
        max_manifest_bytes: int = DEFAULT_MAX_MANIFEST_BYTES,
    ) -> Bundle:
        """Read the bundle extracted at ``root``; a :class:`BundleError` names what is wrong.

        Checks, in order: metadata (with the optional expected name and version), the
        chart archives, the manifest, the images directory.
        """
        root = Path(root)
        metadata = load_metadata(
            root, max_metadata_bytes, expect_name=expect_name, expect_version=expect_version
        )
        return cls(
            root=root,
            metadata=metadata,
            charts=find_charts(root),
            manifest=find_manifest(root, max_manifest_bytes),
            images=find_images(root),
        )


def unpack(
    tarball: Path,
    dest: Path,
    *,
    limits: ExtractLimits | None = None,
    expect_name: str | None = None,
    expect_version: str | None = None,
    max_metadata_bytes: int = DEFAULT_MAX_BYTES,
    max_manifest_bytes: int = DEFAULT_MAX_MANIFEST_BYTES,
) -> Bundle:
    """Check the metadata in ``tarball``, extract it into ``dest`` and open the result.

    The conductor's one call for "extract and read". Metadata problems are found before
    anything is written; any later failure removes ``dest`` again, so after an error
    ``dest`` does not exist (it must be absent or empty before, see
    :func:`~sysinv_common.apps.extract.extract_bundle`) and nothing was written outside.
    Chart checks are separate (:mod:`sysinv_conductor.bundle.charts`): they need helm.
    """
    read_metadata_from_tarball(
        tarball,
        max_metadata_bytes,
        expect_name=expect_name,
        expect_version=expect_version,
        limits=limits,
    )
    extract_bundle(tarball, dest, limits)
    try:
        return Bundle.open(
            dest,
            expect_name=expect_name,
            expect_version=expect_version,
            max_metadata_bytes=max_metadata_bytes,
            max_manifest_bytes=max_manifest_bytes,
        )
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
