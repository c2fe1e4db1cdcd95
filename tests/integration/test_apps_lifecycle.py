"""Applications end to end on the real cluster, with helm 3 and helm 4: the example app
goes upload → apply → remove → delete through the API and the conductor."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from sysinv_common.db.models import AppRelease
from tests.api.test_hosts import fault
from tests.integration.example_app import build_example
from tests.servers.helm import HelmBinary
from tests.stack import Stack, make_settings, running_stack, wait_done

pytestmark = pytest.mark.kube
REPO = Path(__file__).resolve().parents[2]


def upload_body(path: Path) -> dict[str, Any]:
    return {
        "tarfile": str(path),
        "binary_data": base64.urlsafe_b64encode(path.read_bytes()).decode(),
    }


@pytest.fixture
def app_stack(kube_cluster: Any, helm: HelmBinary, tmp_path: Path) -> Iterator[Stack]:
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm.path)
    settings.kubernetes.label_audit_interval = 3600
    with running_stack(settings) as stack:
        yield stack


def test_example_app_lifecycle(
    app_stack: Stack, kube_cluster: Any, helm: HelmBinary, tmp_path: Path
) -> None:
    bundle = build_example(helm, tmp_path / "out")
    r = app_stack.client.post("/v1/apps", json=upload_body(bundle))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "uploading"
    app = wait_done(app_stack, "hello-app")
    assert app["status"] == "uploaded", app
    assert app["manifest_name"] == "hello-app-manifest"
    assert (app_stack.settings.chart_repo / "index.yaml").exists()

    r = app_stack.client.patch(
        "/v1/apps/hello-app?directive=apply", json={"values": {"client_side": False}}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "applying"
    again = app_stack.client.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
    assert again.status_code == 400
    assert "current status is applying" in fault(again)
    app = wait_done(app_stack, "hello-app")
    assert (app["status"], app["progress"], app["active"]) == ("applied", "completed", True), app

    core = kube_cluster.core_v1()
    apps_api = client.AppsV1Api(kube_cluster.api_client())
    deployments = apps_api.list_namespaced_deployment("hello").items
    assert deployments and all(d.status.ready_replicas == d.spec.replicas for d in deployments)
    assert core.list_namespaced_config_map("hello").items
    with app_stack.db.session() as s:
        releases = {(r.release, r.namespace, r.status) for r in s.query(AppRelease).all()}
        revisions = {r.revision for r in s.query(AppRelease).all()}
    assert ("hello-config", "hello", "deployed") in releases
    assert len(releases) == 4 and revisions == {1}

    r = app_stack.client.delete("/v1/apps/hello-app?force=False")
    assert r.status_code == 400
    assert "current status is applied" in fault(r)

    r = app_stack.client.patch(
        "/v1/apps/hello-app?directive=remove&force=False", json={"values": {}}
    )
    assert r.status_code == 200 and r.json()["status"] == "removing"
    app = wait_done(app_stack, "hello-app")
    assert (app["status"], app["active"]) == ("uploaded", False), app
    assert apps_api.list_namespaced_deployment("hello").items == []
    with app_stack.db.session() as s:
        assert s.query(AppRelease).count() == 0

    assert app_stack.client.delete("/v1/apps/hello-app?force=False").status_code == 204
    assert app_stack.client.get("/v1/apps/hello-app").status_code == 404
    assert not (app_stack.settings.apps_dir / "hello-app").exists() or not any(
        (app_stack.settings.apps_dir / "hello-app").iterdir()
    )
    assert app_stack.stored_bundles() == []


def test_bad_bundle_ends_upload_failed_and_leaves_nothing(app_stack: Stack, tmp_path: Path) -> None:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in (("metadata.yaml", b"app_name: evil\napp_version: '1'\n"),
                           ("../escape.txt", b"x")):  # fmt: skip
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "evil.tgz"
    path.write_bytes(buf.getvalue())
    r = app_stack.client.post("/v1/apps", json=upload_body(path))
    assert r.status_code == 200, r.text
    app = wait_done(app_stack, "evil")
    assert app["status"] == "upload-failed"
    assert "escape" in app["progress"]
    assert not (app_stack.settings.apps_dir / "evil" / "1").exists()
    assert not (app_stack.settings.state_dir / "apps" / "escape.txt").exists()
    assert not (tmp_path / "escape.txt").exists()
    r = app_stack.client.patch("/v1/apps/evil?directive=apply", json={"values": {}})
    assert r.status_code == 400 and "current status is upload-failed" in fault(r)
    assert app_stack.client.delete("/v1/apps/evil").status_code == 204


def test_concurrent_applies_only_one_wins(
    app_stack: Stack, helm: HelmBinary, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    bundle = build_example(helm, tmp_path / "out")
    app_stack.client.post("/v1/apps", json=upload_body(bundle))
    assert wait_done(app_stack, "hello-app")["status"] == "uploaded"
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(
            lambda _: app_stack.client.patch(
                "/v1/apps/hello-app?directive=apply", json={"values": {}}
            ).status_code,
            range(4),
        ))  # fmt: skip
    assert sorted(codes) == [200, 400, 400, 400]
    assert wait_done(app_stack, "hello-app")["status"] == "applied"
    app_stack.client.patch("/v1/apps/hello-app?directive=remove", json={"values": {}})
    assert wait_done(app_stack, "hello-app")["status"] == "uploaded"


def test_apply_mode_reaches_the_apply(kube_cluster: Any, helm4: HelmBinary, tmp_path: Path) -> None:
    """``application-apply -m restore_db``: the mode the app declares is accepted and
    reaches the apply job, which records it (no chart uses a mode yet)."""
    from sysinv_common.db.models import AppEvent
    from tests.integration.example_app import build_variant

    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm4.path)
    modes = {"behavior": {"apply_modes": ["normal", "restore_db"]}}
    with running_stack(settings) as stack:
        bundle = build_variant(helm4, tmp_path, "mode", metadata=modes)
        assert stack.client.post("/v1/apps", json=upload_body(bundle)).status_code == 200
        assert wait_done(stack, "hello-app")["status"] == "uploaded"
        r = stack.client.patch(
            "/v1/apps/hello-app?directive=apply",
            json={"values": {"mode": "restore_db", "client_side": False}},
        )
        assert r.status_code == 200, r.text
        assert wait_done(stack, "hello-app")["status"] == "applied"
        with stack.db.session() as s:
            events = [(e.operation, e.phase, e.message) for e in s.query(AppEvent).all()]
        assert ("apply", "mode", "apply mode restore_db (recorded; no chart uses it)") in events
        stack.client.patch("/v1/apps/hello-app?directive=remove", json={"values": {}})
        assert wait_done(stack, "hello-app")["status"] == "uploaded"


def test_missing_chart_archives_are_refused_at_upload(
    app_stack: Stack, helm: HelmBinary, tmp_path: Path
) -> None:
    import io
    import tarfile

    whole = build_example(helm, tmp_path / "whole")
    gone: list[str] = []
    buf = io.BytesIO()
    with tarfile.open(whole, "r:gz") as src, tarfile.open(fileobj=buf, mode="w:gz") as dst:
        for member in src.getmembers():
            if member.name.lstrip("./").startswith("charts/") and member.isfile() and len(gone) < 2:
                gone.append(member.name.rsplit("/", 1)[-1])
                continue
            dst.addfile(member, src.extractfile(member) if member.isfile() else None)
    path = tmp_path / "partial.tgz"
    path.write_bytes(buf.getvalue())
    assert app_stack.client.post("/v1/apps", json=upload_body(path)).status_code == 200
    app = wait_done(app_stack, "hello-app")
    assert app["status"] == "upload-failed"
    assert "missing from charts/" in app["progress"]
    assert all(name in app["progress"] for name in gone), (gone, app["progress"])
    assert app_stack.client.delete("/v1/apps/hello-app").status_code == 204


def test_a_chart_disabled_since_the_last_apply_loses_its_releases(
    kube_cluster: Any, helm4: HelmBinary, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm4.path)
    settings.kubernetes.label_audit_interval = 3600
    apps_api = client.AppsV1Api(kube_cluster.api_client())
    workers = {"name": "hello-worker", "namespace": "hello-workers"}

    def apply() -> dict[str, Any]:
        r = stack.client.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
        assert r.status_code == 200, r.text
        return wait_done(stack, "hello-app", timeout=240)

    def releases() -> set[str]:
        with stack.db.session() as s:
            return {r.release for r in s.query(AppRelease).all()}

    def enable(value: str) -> None:
        body = {"flags": {}, "values": {}, "attributes": {"enabled": value}}
        r = stack.client.patch("/v1/helm_charts/hello-app", params=workers, json=body)
        assert r.status_code == 200, r.text

    with running_stack(settings) as stack:
        r = stack.client.post("/v1/apps", json=upload_body(build_example(helm4, tmp_path / "o")))
        assert r.status_code == 200, r.text
        assert wait_done(stack, "hello-app")["status"] == "uploaded"
        assert apply()["status"] == "applied"
        assert {"hello-worker-a", "hello-worker-b"} <= releases()
        assert apps_api.list_namespaced_deployment("hello-workers").items

        enable("false")
        app = apply()
        assert (app["status"], app["progress"]) == ("applied", "completed"), app
        assert not {"hello-worker-a", "hello-worker-b"} & releases()
        assert "hello-web" in releases()
        assert apps_api.list_namespaced_deployment("hello-workers").items == []

        enable("true")
        assert apply()["status"] == "applied"
        assert {"hello-worker-a", "hello-worker-b"} <= releases()
        assert apps_api.list_namespaced_deployment("hello-workers").items
        r = stack.client.patch("/v1/apps/hello-app?directive=remove", json={"values": {}})
        assert r.status_code == 200
        assert wait_done(stack, "hello-app")["status"] == "uploaded"
