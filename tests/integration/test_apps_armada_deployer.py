"""apps.deployer=armada: the conductor drives a site's `armada apply` command line.

Airship Armada is not installable here, so the command is a scripted stand-in that prints
Armada's log lines for the charts of the manifest it is given and exits as told.
"""

from __future__ import annotations

import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from sysinv_common.conf.apps import Deployer
from tests.integration.example_app import build_example, build_variant
from tests.integration.test_apps_interrupted import wait_for
from tests.integration.test_apps_lifecycle import upload_body
from tests.servers.helm import HelmBinary
from tests.stack import make_settings, running_stack

pytestmark = pytest.mark.kube

STAND_IN = textwrap.dedent(
    """\
    import shutil, sys, yaml
    mode, copy_to, manifest = sys.argv[1], sys.argv[2], sys.argv[-1]
    shutil.copy(manifest, copy_to)
    def log(level, logger, msg, chart=None):
        prefix = f"[chart={chart}]: " if chart else ""
        print(f"2026-01-01 10:00:00.000 7 {level} armada.{logger} [-] {prefix}{msg}", flush=True)
    docs = [d for d in yaml.safe_load_all(open(manifest)) if d]
    charts = [d for d in docs if d["schema"].startswith("armada/Chart/")]
    with open(copy_to + ".runs", "a") as runs:  # one line per run: the charts it was given
        runs.write(" ".join(sorted(d["metadata"]["name"] for d in charts)) + "\\n")
    for d in charts:
        name, rel = d["metadata"]["name"], d["data"]["release"]
        log("INFO", "handlers.chart_deploy",
            f"Processing Chart, release={d['data']['namespace']}/hello-{rel}", name)
        # "stuck": fail as a wait would for pods that no node can take (build_variant).
        stuck = mode == "stuck" and "nodeSelector" in (d["data"].get("values") or {})
        if (mode == "fail" or stuck) and name == "hello-web":
            log("ERROR", "handlers.armada", "Chart deploy [hello-web] failed")
            log("ERROR", "handlers.armada", "Chart deploy(s) failed: ['hello-web']")
            sys.exit(1)
        log("INFO", "handlers.chart_deploy",
            f"Installing release=hello-{rel}, wait=True, timeout=300s", name)
        log("INFO", "handlers.chart_deploy", "Install completed", name)
    log("INFO", "handlers.armada", "Done applying manifest.")
    """
)


@pytest.mark.parametrize("mode", ["ok", "fail"])
def test_armada_deployer(kube_cluster: Any, helm4: HelmBinary, tmp_path: Path, mode: str) -> None:
    script = tmp_path / "armada-stand-in.py"
    script.write_text(STAND_IN)
    copied = tmp_path / "manifest-seen.yaml"
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm4.path)
    settings.apps.deployer = Deployer.ARMADA
    settings.apps.armada_command = [sys.executable, str(script), mode, str(copied)]
    with running_stack(settings) as stack:
        c = stack.client
        get = lambda: c.get("/v1/apps/hello-app").json()  # noqa: E731
        c.post("/v1/apps", json=upload_body(build_example(helm4, tmp_path / "out")))
        wait_for(get, lambda a: a["status"] == "uploaded", 60, "upload")
        c.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
        app = wait_for(get, lambda a: a["status"] != "applying", 60, "apply")
        seen = [d for d in yaml.safe_load_all(copied.read_text()) if d]
        assert {d["metadata"]["name"] for d in seen if "Chart/" in d["schema"]} >= {
            "hello-config", "hello-web",
        }  # fmt: skip
        if mode == "ok":
            assert (app["status"], app["progress"]) == ("applied", "completed")
            c.patch("/v1/apps/hello-app?directive=remove", json={"values": {}})
            app = wait_for(get, lambda a: a["status"] != "removing", 60, "remove")
            assert app["status"] == "remove-failed"
            assert "cannot remove" in app["progress"]
        else:
            assert app["status"] == "apply-failed"
            assert "hello-web" in app["progress"]


def test_armada_update_failure_re_applies_the_old_version(
    kube_cluster: Any, helm4: HelmBinary, tmp_path: Path
) -> None:
    # Armada has no rollback and no delete: the old version is applied again, and what
    # only the new version installed is reported as left in place.
    script = tmp_path / "armada-stand-in.py"
    script.write_text(STAND_IN)
    copied = tmp_path / "manifest-seen.yaml"
    ns = f"ar-{uuid.uuid4().hex[:6]}"
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm4.path)
    settings.apps.deployer = Deployer.ARMADA
    settings.apps.armada_command = [sys.executable, str(script), "stuck", str(copied)]
    old = "hello-config hello-web hello-worker-a"
    new = "hello-config hello-web hello-worker-a hello-worker-b"
    with running_stack(settings) as stack:
        c = stack.client
        get = lambda: c.get("/v1/apps/hello-app").json()  # noqa: E731
        v1 = build_variant(helm4, tmp_path, ns, "1.0-1", without=("hello-worker-b",))
        c.post("/v1/apps", json=upload_body(v1))
        wait_for(get, lambda a: a["status"] == "uploaded", 60, "upload")
        c.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
        wait_for(get, lambda a: a["status"] == "applied", 60, "apply")
        v2 = build_variant(helm4, tmp_path, ns, "1.0-2", stuck=True)
        r = c.post("/v1/apps/update", json=upload_body(v2))
        assert r.status_code == 200, r.text
        app = wait_for(get, lambda a: a["status"] != "updating", 120, "failed update")
        assert (app["status"], app["app_version"]) == ("update-failed", "1.0-1"), app
        progress = app["progress"]
        assert "update to 1.0-2 failed" in progress and "hello-web" in progress
        assert "rolled back to 1.0-1" in progress
        assert f"left installed (hello-worker-b-{ns})" in progress
        assert "no delete command" in progress
        runs = (tmp_path / "manifest-seen.yaml.runs").read_text().splitlines()
        assert runs == [old, new, old]
        assert not (settings.apps_dir / "hello-app" / "1.0-2").exists()
