#!/usr/bin/env python3
"""Build an application bundle from its source directory (default: examples/hello-app).

    python examples/build_app.py [--app DIR] [--out DIR] [--helm PATH]

The source directory holds ``metadata.yaml``, the Armada manifest (``*.yaml`` in its root or
``manifests/``), chart source directories under ``charts/`` and optionally ``images/``. Each
chart is packaged with ``helm package``; the result is ``<out>/<app_name>-<app_version>.tgz``
(format: docs/app-bundle.md). helm is ``--helm``, else ``$HELM``, else ``helm`` on PATH.

Builds are reproducible: every member of the bundle and of each chart archive gets fixed
owners, modes and times (``SOURCE_DATE_EPOCH``, default 0). helm 3's ``helm package`` stamps
the current time into an archive, and a chart repository refuses an archive whose version
it already holds with other bytes; so an unchanged chart must package to the same bytes.

Only the standard library and PyYAML are used, so the script runs from the project's venv
or any Python with PyYAML.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO

import yaml

HERE = Path(__file__).resolve().parent
# Fixed member metadata, so that two builds of the same inputs are the same bytes.
MTIME = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))


def find_helm(explicit: str | None) -> str:
    candidate = explicit or os.environ.get("HELM") or shutil.which("helm")
    if not candidate or not (Path(candidate).is_file() and os.access(candidate, os.X_OK)):
        where = explicit or os.environ.get("HELM") or "helm on PATH"
        sys.exit(f"build_app: helm not found ({where}); pass --helm PATH or set HELM=/path/to/helm")
    return candidate


def read_name_version(app: Path) -> tuple[str, str]:
    meta = yaml.safe_load((app / "metadata.yaml").read_text())
    name, version = meta.get("app_name"), meta.get("app_version")
    if not isinstance(name, str) or not isinstance(version, str):
        sys.exit("build_app: metadata.yaml needs app_name and app_version as strings")
    return name, version


def package_charts(helm: str, app: Path, dest: Path) -> None:
    charts = sorted(p for p in (app / "charts").iterdir() if (p / "Chart.yaml").is_file())
    if not charts:
        sys.exit(f"build_app: no chart directories (with Chart.yaml) under {app / 'charts'}")
    dest.mkdir()
    with tempfile.TemporaryDirectory(prefix="build-app-helm-") as home:
        env = dict(os.environ)
        # helm's own homes in a throwaway place: packaging needs no repositories.
        for var in ("CACHE", "CONFIG", "DATA"):
            env[f"HELM_{var}_HOME"] = os.path.join(home, var.lower())
        for chart in charts:
            proc = subprocess.run(
                [helm, "package", str(chart), "--destination", str(dest)],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                sys.exit(f"build_app: helm package {chart.name} failed:\n{proc.stderr}")
            print(f"packaged {chart.name}")
    for archive in sorted(dest.glob("*.tgz")):
        normalize_chart_archive(archive)


def normalize_chart_archive(archive: Path) -> None:
    """Rewrite a `helm package` archive with the same members, in the same order, but
    fixed times and owners and no gzip timestamp: the same chart, the same bytes."""
    partial = archive.with_name(archive.name + ".part")
    with (
        tarfile.open(archive, "r:gz") as src,
        partial.open("wb") as raw,
        _gzip(raw) as gz,
        tarfile.open(fileobj=gz, mode="w") as dst,
    ):
        for member in src.getmembers():
            member.mtime = MTIME
            member.uid = member.gid = 0
            member.uname = member.gname = ""
            member.pax_headers = {}
            dst.addfile(member, src.extractfile(member) if member.isreg() else None)
    partial.replace(archive)


def _gzip(raw: BinaryIO) -> gzip.GzipFile:
    # No file name and no time in the gzip header: only the content decides the bytes.
    return gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)


def add(tar: tarfile.TarFile, path: Path, arcname: str) -> None:
    info = tar.gettarinfo(str(path), arcname)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = MTIME
    info.mode = 0o755 if info.isdir() else 0o644
    if info.isdir():
        tar.addfile(info)
        for child in sorted(path.iterdir()):
            add(tar, child, f"{arcname}/{child.name}")
    elif info.isreg():
        with path.open("rb") as fh:
            tar.addfile(info, fh)
    else:
        sys.exit(f"build_app: {path} is neither a file nor a directory")


def build(app: Path, out: Path, helm: str) -> Path:
    name, version = read_name_version(app)
    with tempfile.TemporaryDirectory(prefix="build-app-") as tmp:
        stage = Path(tmp) / "bundle"
        stage.mkdir()
        shutil.copy2(app / "metadata.yaml", stage / "metadata.yaml")
        for entry in sorted(app.iterdir()):
            if entry.suffix in (".yaml", ".yml") and entry.name != "metadata.yaml":
                shutil.copy2(entry, stage / entry.name)
        for folder in ("manifests", "images"):
            if (app / folder).is_dir():
                shutil.copytree(app / folder, stage / folder)
        package_charts(helm, app, stage / "charts")
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{name}-{version}.tgz"
        partial = target.with_suffix(".tgz.part")
        with partial.open("wb") as raw, _gzip(raw) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
            for entry in sorted(stage.iterdir()):
                add(tar, entry, entry.name)
        partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=HERE / "hello-app", help="source dir")
    parser.add_argument("--out", type=Path, default=Path("build"), help="output directory")
    parser.add_argument("--helm", help="helm executable (default: $HELM, then PATH)")
    args = parser.parse_args(argv)
    if not (args.app / "metadata.yaml").is_file():
        sys.exit(f"build_app: {args.app} has no metadata.yaml")
    target = build(args.app, args.out, find_helm(args.helm))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
