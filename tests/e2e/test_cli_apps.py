"""``system application-*`` against a live ``sysinv aio --kubeconfig`` on the test cluster."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import start_aio, stop_aio
from tests.integration.example_app import build_variant
from tests.servers.helm import HelmBinary

pytestmark = pytest.mark.kube


def test_application_commands(kube_cluster: Any, helm4: HelmBinary, tmp_path: Path) -> None:
    ns = f"cli-{uuid.uuid4().hex[:6]}"
    bundle = build_variant(helm4, tmp_path / "build", ns)
    aio = start_aio(
        tmp_path / "data", "--kubeconfig", str(kube_cluster.kubeconfig),
        env={"SYSINV_APPS__HELM_BINARY": str(helm4.path)},
    )  # fmt: skip
    try:
        bad = aio.system("application-upload", str(tmp_path / "nothing.zip"), check=False)
        assert bad.returncode == 1 and "unrecognizable tar file extension" in bad.stderr
        out = aio.system("application-upload", str(bundle), "--wait").stdout
        assert "hello-app: uploaded" in out
        out = aio.system("application-apply", "hello-app", "--wait").stdout
        assert "processing chart" in out or "hello-app: applied" in out
        assert out.rstrip().endswith("hello-app: applied")
        listed = json.loads(aio.system("application-list", "--format", "json").stdout)
        assert [(a["name"], a["status"]) for a in listed] == [("hello-app", "applied")]
        table = aio.system("application-list").stdout.splitlines()
        assert [c.strip() for c in table[1].split("|")[1:-1]] == [
            "application", "version", "manifest name", "manifest file", "status", "progress",
        ]  # fmt: skip
        pods = kube_cluster.core_v1().list_namespaced_pod(ns).items
        assert pods
        bad = aio.system("application-delete", "hello-app", check=False)
        assert bad.returncode == 1 and "current status is applied" in bad.stderr
        bad = aio.system("application-abort", "hello-app", check=False)
        assert bad.returncode == 1 and "no operation is in progress" in bad.stderr
        assert (
            "hello-app: uploaded" in aio.system("application-remove", "hello-app", "--wait").stdout
        )
        assert (
            "Application hello-app deleted." in aio.system("application-delete", "hello-app").stdout
        )
        assert json.loads(aio.system("application-list", "--format", "json").stdout) == []
    finally:
        stop_aio(aio)
