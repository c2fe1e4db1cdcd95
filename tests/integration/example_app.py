"""Variants of examples/hello-app for the application tests, built with the real helm."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.servers.helm import HelmBinary

REPO = Path(__file__).resolve().parents[2]


def build_variant(
    helm: HelmBinary,
    tmp: Path,
    namespace: str,
    version: str = "1.0-1",
    greeting: str | None = None,
    stuck: bool = False,
    web_timeout: int = 120,
    without: tuple[str, ...] = (),
    metadata: dict[str, Any] | None = None,
    app_name: str | None = None,
) -> Path:
    """The example app in its own namespace (release names suffixed with it).

    ``app_name``: the app under another name; its releases keep the names they have in
    that namespace, so two such apps claim the same releases.

    ``stuck`` gives hello-web's pods a node selector no node matches, so its helm --wait
    runs until ``web_timeout`` while hello-config (before it) is deployed and the workers
    group (after it) has not started. ``without``: charts left out of the manifest;
    ``metadata``: keys set in its metadata.yaml.
    """
    tag = f"{app_name}-{version}" if app_name else version
    src = tmp / f"src-{tag}"
    shutil.copytree(REPO / "examples" / "hello-app", src)
    meta = yaml.safe_load((src / "metadata.yaml").read_text())
    meta["app_version"] = version
    meta.update(metadata or {})
    if app_name:
        meta["app_name"] = app_name
    (src / "metadata.yaml").write_text(yaml.safe_dump(meta))
    manifest = src / "hello-app-manifest.yaml"
    docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    docs = [d for d in docs if d["metadata"]["name"] not in without]
    for doc in docs:
        if doc["schema"] == "armada/ChartGroup/v1":
            group = doc["data"]["chart_group"]
            doc["data"]["chart_group"] = [c for c in group if c not in without]
        if doc["schema"] != "armada/Chart/v1":
            continue
        data, name = doc["data"], doc["metadata"]["name"]
        data["namespace"] = namespace
        data["release"] = f"{data['release']}-{namespace}"
        if greeting is not None and name == "hello-config":
            data["values"]["settings"]["greeting"] = greeting
        if stuck and name == "hello-web":
            data["values"]["nodeSelector"] = {"sysinv-test/never": "true"}
            data["wait"]["timeout"] = web_timeout
    manifest.write_text(yaml.safe_dump_all(docs))
    return build_bundle(helm, src, tmp / f"out-{tag}")


def build_example(helm: HelmBinary, out: Path) -> Path:
    """examples/hello-app as shipped."""
    return build_bundle(helm, REPO / "examples" / "hello-app", out)


def build_bundle(helm: HelmBinary, app: Path, out: Path) -> Path:
    """The bundle of the app source ``app``, built with examples/build_app.py into ``out``."""
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "build_app.py"), "--app", str(app),
         "--helm", str(helm.path), "--out", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    (bundle,) = out.glob("*.tgz")
    return bundle
