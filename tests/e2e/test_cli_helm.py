"""``system helm-override-*`` and ``helm-chart-attribute-modify`` against a live ``sysinv aio``."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.e2e.conftest import start_aio, stop_aio
from tests.helm_charts.mini_app import APP_NAME, build_mini_app
from tests.servers.helm import HelmBinary


def test_helm_override_commands(helm3: HelmBinary, tmp_path: Path) -> None:
    bundle = build_mini_app(helm3, tmp_path, only={"memcached", "keystone"})
    aio = start_aio(
        tmp_path / "data",
        env={"SYSINV_APPS__HELM_BINARY": str(helm3.path),
             "SYSINV_BOOTSTRAP__REGISTRY__ADDRESS": "registry.local:9001",
             # No registry answers there, and the charts' images are not to be had.
             "SYSINV_REGISTRY__IMAGES_AT_UPLOAD": "false"},
    )  # fmt: skip
    try:
        aio.system("application-upload", str(bundle), "--wait")
        aio.system("host-add", "-n", "controller-0", "-p", "controller")
        aio.system("host-label-assign", "controller-0", "openstack-control-plane=enabled")

        table = aio.system("helm-override-list", APP_NAME, "--long").stdout.splitlines()
        assert [c.strip() for c in table[1].split("|")[1:-1]] == [
            "chart name", "overrides namespaces", "chart enabled",
        ]  # fmt: skip
        assert [c.strip() for c in table[3].split("|")[1:-1]] == [
            "keystone", "['openstack']", "[True]",  # as StarlingX's client prints them
        ]  # fmt: skip

        shown = json.loads(aio.system(
            "helm-override-show", APP_NAME, "memcached", "openstack", "--format", "json"
        ).stdout)  # fmt: skip
        system = yaml.safe_load(shown["system_overrides"])
        assert system["pod"]["replicas"]["server"] == 1
        assert system["images"]["tags"]["memcached"].startswith("registry.local:9001/")
        assert shown["user_overrides"] is None

        values = tmp_path / "mine.yaml"
        values.write_text("pod:\n  replicas:\n    server: 4\n")
        out = aio.system(
            "helm-override-update", APP_NAME, "memcached", "openstack",
            "--values", str(values), "--set", "conf.extra=yes", "--format", "json",
        ).stdout  # fmt: skip
        user = yaml.safe_load(json.loads(out)["user_overrides"])
        assert user == {"pod": {"replicas": {"server": 4}}, "conf": {"extra": "yes"}}
        out = aio.system(
            "helm-override-update", APP_NAME, "memcached", "openstack",
            "--reuse-values", "--set", "conf.more=1", "--format", "json",
        ).stdout  # fmt: skip
        assert yaml.safe_load(json.loads(out)["user_overrides"])["conf"] == {
            "extra": "yes", "more": 1,
        }  # fmt: skip
        combined = json.loads(aio.system(
            "helm-override-show", APP_NAME, "memcached", "openstack", "--format", "json"
        ).stdout)["combined_overrides"]  # fmt: skip
        assert yaml.safe_load(combined)["pod"]["replicas"]["server"] == 4

        bad = aio.system("helm-override-update", APP_NAME, "memcached", "openstack",
                         "--set", "a=1,b=2", check=False)  # fmt: skip
        assert bad.returncode == 1 and "Consider using --values option instead" in bad.stderr
        bad = aio.system("helm-override-show", APP_NAME, "nova", "openstack", check=False)
        assert bad.returncode == 1
        assert f"Chart overrides nova:openstack for application {APP_NAME} not found" in bad.stderr
        bad = aio.system("helm-override-list", "nope", check=False)
        assert bad.returncode == 1 and "Application not found: nope" in bad.stderr

        out = aio.system("helm-override-delete", APP_NAME, "memcached", "openstack").stdout
        assert out == f"Deleted chart overrides memcached:openstack for application {APP_NAME}\n"
        out = aio.system(
            "helm-chart-attribute-modify", APP_NAME, "keystone", "openstack", "--enabled", "false"
        ).stdout
        assert "{'enabled': False}" in out  # a dict, as StarlingX's client prints one
        listed = json.loads(aio.system("helm-override-list", APP_NAME, "-l", "--format", "json")
                            .stdout)  # fmt: skip
        assert {c["name"]: c["enabled"] for c in listed} == {
            "keystone": [False], "memcached": [True],
        }  # fmt: skip
        keystone = json.loads(aio.system(
            "helm-override-show", APP_NAME, "keystone", "openstack", "--format", "json"
        ).stdout)  # fmt: skip
        assert "******" in keystone["system_overrides"]
        revealed = aio.system(
            "helm-override-show", APP_NAME, "keystone", "openstack", "--show-secrets"
        ).stdout
        assert "******" not in revealed
        # Generated secrets never reach the log.
        shown = json.loads(aio.system(
            "helm-override-show", APP_NAME, "keystone", "openstack", "--show-secrets",
            "--format", "json",
        ).stdout)  # fmt: skip
        password = yaml.safe_load(shown["system_overrides"])["endpoints"]["identity"]["auth"][
            "admin"
        ]["password"]
        assert password not in aio.log.read_text()
    finally:
        stop_aio(aio)
