"""``system application-apply|remove APP --dry-run`` against a live ``sysinv aio`` on the
test cluster: a readable diff (no colour off a terminal), or the plan as JSON/YAML."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import start_aio, stop_aio
from tests.integration.example_app import build_variant
from tests.servers.helm import HelmBinary

pytestmark = pytest.mark.kube


def test_dry_runs(kube_cluster: Any, helm4: HelmBinary, tmp_path: Path) -> None:
    ns = f"cliplan-{uuid.uuid4().hex[:6]}"
    bundle = build_variant(helm4, tmp_path / "build", ns)
    aio = start_aio(
        tmp_path / "data", "--kubeconfig", str(kube_cluster.kubeconfig),
        env={"SYSINV_APPS__HELM_BINARY": str(helm4.path)},
    )  # fmt: skip
    try:
        aio.system("application-upload", str(bundle), "--wait")
        text = aio.system("application-apply", "hello-app", "--dry-run").stdout
        lines = text.splitlines()
        assert (
            lines[0] == "Plan: application-apply of hello-app 1.0-1 (4 chart(s), nothing changed)"
        )
        assert f"+ hello-config: install (release hello-config-{ns} in {ns}, chart 0.1.0)" in lines
        assert f"    + ConfigMap {ns}/hello-config-{ns}-settings" in lines
        assert "\x1b[" not in text
        # A dry run starts nothing.
        shown = json.loads(aio.system("application-show", "hello-app", "-f", "json").stdout)
        assert shown["status"] == "uploaded"
        assert (
            kube_cluster.core_v1().list_namespace(field_selector=f"metadata.name={ns}").items == []
        )

        aio.system("application-apply", "hello-app", "--wait")
        aio.system("helm-override-update", "hello-app", "hello-config", ns,
                   "--set", "settings.color=green")  # fmt: skip
        text = aio.system("application-apply", "hello-app", "--dry-run").stdout
        assert "~ hello-config: upgrade" in text
        # The chart's values.yaml said blue; the user override is new.
        assert "    + [user] settings.color: green" in text
        assert "        ~ data.COLOR: blue -> green" in text
        assert "= hello-web: unchanged" in text
        plan = json.loads(
            aio.system("application-apply", "hello-app", "--dry-run", "-f", "json").stdout
        )
        assert [c["action"] for c in plan["charts"]] == ["upgrade", "unchanged", "unchanged",
                                                         "unchanged"]  # fmt: skip
        cm = kube_cluster.core_v1().read_namespaced_config_map(f"hello-config-{ns}-settings", ns)
        assert cm.data["COLOR"] == "blue"

        # A remove's dry run asks nothing (no --yes) and removes nothing.
        removal = yaml.safe_load(
            aio.system("application-remove", "hello-app", "--dry-run", "-f", "yaml").stdout
        )
        assert [c["chart"] for c in removal["charts"]] == [
            "hello-worker-b", "hello-worker-a", "hello-web", "hello-config",
        ]  # fmt: skip
        assert {c["action"] for c in removal["charts"]} == {"remove"}
        shown = json.loads(aio.system("application-show", "hello-app", "-f", "json").stdout)
        assert shown["status"] == "applied"
        # An update's dry run names the new bundle; the server reads it where it may.
        new = build_variant(helm4, tmp_path / "v2", ns, version="2.0-1",
                            without=("hello-worker-b",))  # fmt: skip
        imports = tmp_path / "data" / "import"
        imports.mkdir(exist_ok=True)
        (imports / new.name).write_bytes(new.read_bytes())
        text = aio.system("application-update", str(imports / new.name), "--dry-run").stdout
        assert text.splitlines()[0] == (
            "Plan: application-update of hello-app 1.0-1 -> 2.0-1 (4 chart(s), nothing changed)"
        )
        assert "- hello-worker-b: remove (not in 2.0-1)" in text
        bad = aio.system("application-update", str(new), "--dry-run", check=False)
        assert bad.returncode == 1 and "outside the import directories" in bad.stderr
        shown = json.loads(aio.system("application-show", "hello-app", "-f", "json").stdout)
        assert (shown["status"], shown["app_version"]) == ("applied", "1.0-1")
        bad = aio.system("application-apply", "nothing-here", "--dry-run", check=False)
        assert bad.returncode == 1 and "application nothing-here not found" in bad.stderr
    finally:
        stop_aio(aio)
