"""The chart repository through the API and the conductor, with helm 3 and helm 4: a chart
version stands for one content, an upload that would change an archive another app holds
is refused and leaves nothing behind, identical archives are shared, and a delete removes
the archives no other app holds."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import delete, select

from sysinv_common.db.models import AppChartArchive, ChartArchive
from tests.integration.example_app import build_bundle
from tests.integration.test_apps_interrupted import wait_for
from tests.integration.test_apps_lifecycle import upload_body
from tests.servers.helm import HelmBinary
from tests.stack import Stack, make_settings, running_stack, wait_done

pytestmark = pytest.mark.kube
REPO = Path(__file__).resolve().parents[2]
ARCHIVES = {"hello-config-0.1.0.tgz", "hello-web-0.1.0.tgz", "hello-worker-0.1.0.tgz"}


@pytest.fixture
def stack(kube_cluster: Any, helm: HelmBinary, tmp_path: Path) -> Iterator[Stack]:
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm.path)
    settings.kubernetes.label_audit_interval = 3600
    with running_stack(settings) as s:
        yield s


def variant(
    helm: HelmBinary, tmp: Path, name: str, version: str = "1.0-1", ns: str | None = None,
    web_value: str | None = None, web_version: str | None = None, drop_worker: bool = False,
) -> Path:  # fmt: skip
    """The example app as ``name`` ``version``: in namespace ``ns`` (its releases named
    after it), hello-web's chart changed when ``web_value`` (its version kept, unless
    ``web_version``), without the hello-worker chart when ``drop_worker``."""
    src = tmp / f"src-{name}-{version}"
    shutil.copytree(REPO / "examples" / "hello-app", src)
    meta = yaml.safe_load((src / "metadata.yaml").read_text())
    meta.update(app_name=name, app_version=version)
    (src / "metadata.yaml").write_text(yaml.safe_dump(meta))
    web = src / "charts" / "hello-web"
    if web_value is not None:
        (web / "values.yaml").write_text((web / "values.yaml").read_text() + f"# {web_value}\n")
    if web_version is not None:
        chart = yaml.safe_load((web / "Chart.yaml").read_text())
        chart["version"] = web_version
        (web / "Chart.yaml").write_text(yaml.safe_dump(chart))
    if drop_worker:
        shutil.rmtree(src / "charts" / "hello-worker")
    manifest = src / "hello-app-manifest.yaml"
    docs = [d for d in yaml.safe_load_all(manifest.read_text()) if d]
    workers = ("hello-workers", "hello-worker-a", "hello-worker-b")
    docs = [d for d in docs if not (drop_worker and d["metadata"]["name"] in workers)]
    for doc in docs:
        data = doc["data"]
        if doc["schema"] == "armada/Manifest/v1" and drop_worker:
            data["chart_groups"] = ["hello-base"]
        if doc["schema"] != "armada/Chart/v1":
            continue
        if ns is not None:
            data["namespace"] = ns
            data["release"] = f"{data['release']}-{ns}"
        if web_version is not None and doc["metadata"]["name"] == "hello-web":
            location = data["source"]["location"]
            data["source"]["location"] = location.replace("0.1.0", web_version)
    manifest.write_text(yaml.safe_dump_all(docs))
    return build_bundle(helm, src, tmp / f"out-{name}-{version}")


def repo_state(stack: Stack) -> dict[str, bytes]:
    """The chart repository's archives and index, by name."""
    repo = stack.settings.chart_repo
    return {p.name: p.read_bytes() for p in repo.iterdir() if p.name.endswith((".tgz", ".yaml"))}


def indexed(stack: Stack) -> set[str]:
    index = yaml.safe_load((stack.settings.chart_repo / "index.yaml").read_text())
    return {v["urls"][0] for versions in (index.get("entries") or {}).values() for v in versions}


def holds(stack: Stack) -> set[tuple[int, str, str]]:
    with stack.db.session() as s:
        return {(h.app_id, h.app_version, h.file_name) for h in s.scalars(select(AppChartArchive))}


def upload(stack: Stack, bundle: Path, name: str) -> dict[str, Any]:
    r = stack.client.post("/v1/apps", json=upload_body(bundle))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "uploading"
    return wait_done(stack, name)


def test_upload_of_a_differing_archive_is_refused_and_leaves_nothing(
    stack: Stack, helm: HelmBinary, tmp_path: Path
) -> None:
    first = upload(stack, variant(helm, tmp_path, "hello-app"), "hello-app")
    assert first["status"] == "uploaded", first
    assert {n for n in repo_state(stack) if n.endswith(".tgz")} == ARCHIVES
    before, held = repo_state(stack), holds(stack)

    # Same chart version 0.1.0, other bytes: the API cannot know (it reads only
    # metadata.yaml; helm names the archive), the conductor refuses it.
    other = upload(stack, variant(helm, tmp_path, "other-app", web_value="changed"), "other-app")
    assert other["status"] == "upload-failed"
    assert other["progress"] == (
        "chart archive hello-web-0.1.0.tgz (chart hello-web 0.1.0 from "
        "charts/hello-web-0.1.0.tgz) differs from the hello-web-0.1.0.tgz that application "
        "hello-app 1.0-1 holds in the chart repository. A chart version stands for one "
        "content: give the chart a new version (version in its Chart.yaml) and package it "
        "again, or delete application hello-app first"
    )
    # Nothing half-written: the repository and its index as they were (hello-config and
    # hello-worker, which were fine, not re-stored either), no holds, no extracted copy.
    assert repo_state(stack) == before
    assert holds(stack) == held
    assert not (stack.settings.apps_dir / "other-app" / "1.0-1").exists()
    assert stack.client.delete("/v1/apps/other-app").status_code == 204
    assert repo_state(stack) == before

    # Deleted, then uploaded again from a new build (the same bytes): stored again.
    assert stack.client.delete("/v1/apps/hello-app").status_code == 204
    assert not any(n.endswith(".tgz") for n in repo_state(stack))
    again = upload(stack, variant(helm, tmp_path / "again", "hello-app"), "hello-app")
    assert again["status"] == "uploaded", again
    archives = {n: b for n, b in before.items() if n.endswith(".tgz")}
    assert {n: b for n, b in repo_state(stack).items() if n.endswith(".tgz")} == archives


def test_shared_archives_stay_until_their_last_holder_is_deleted(
    stack: Stack, helm: HelmBinary, tmp_path: Path
) -> None:
    assert upload(stack, variant(helm, tmp_path, "hello-app"), "hello-app")["status"] == "uploaded"
    # The same charts built again are the same bytes: held by both apps.
    twin = upload(stack, variant(helm, tmp_path, "twin", drop_worker=True), "twin")
    assert twin["status"] == "uploaded", twin
    shared = ARCHIVES - {"hello-worker-0.1.0.tgz"}
    with stack.db.session() as s:
        assert set(s.scalars(select(ChartArchive.file_name))) == ARCHIVES
    assert len(holds(stack)) == len(ARCHIVES) + len(shared)

    # hello-app alone held hello-worker's archive: it goes; the shared ones stay.
    assert stack.client.delete("/v1/apps/hello-app").status_code == 204
    assert {n for n in repo_state(stack) if n.endswith(".tgz")} == shared
    assert indexed(stack) == shared
    with stack.db.session() as s:
        assert set(s.scalars(select(ChartArchive.file_name))) == shared

    assert stack.client.delete("/v1/apps/twin").status_code == 204
    assert {n for n in repo_state(stack) if n.endswith(".tgz")} == set()
    assert indexed(stack) == set()
    assert holds(stack) == set()


def test_archives_stored_before_they_were_recorded_are_still_protected(
    stack: Stack, helm: HelmBinary, tmp_path: Path
) -> None:
    """A repository filled by a sysinv that did not record its archives: each is recorded
    for the extracted app that has the same bytes before an upload is decided on."""
    assert upload(stack, variant(helm, tmp_path, "hello-app"), "hello-app")["status"] == "uploaded"
    with stack.db.session() as s:
        s.execute(delete(AppChartArchive))
        s.execute(delete(ChartArchive))
    other = upload(stack, variant(helm, tmp_path, "other-app", web_value="changed"), "other-app")
    assert other["status"] == "upload-failed"
    assert "that application hello-app 1.0-1 holds in the chart repository" in other["progress"]
    with stack.db.session() as s:
        assert set(s.scalars(select(ChartArchive.file_name))) == ARCHIVES


def test_update_refuses_a_changed_chart_under_its_version_and_prunes_the_old_archives(
    stack: Stack, helm: HelmBinary, tmp_path: Path
) -> None:
    ns = f"repo-{uuid.uuid4().hex[:6]}"
    c = stack.client
    get = lambda: c.get("/v1/apps/hello-app").json()  # noqa: E731
    v1 = upload(stack, variant(helm, tmp_path, "hello-app", ns=ns), "hello-app")
    assert v1["status"] == "uploaded", v1
    c.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
    assert wait_for(get, lambda a: a["status"] != "applying", 180, "apply")["status"] == "applied"
    before, held = repo_state(stack), holds(stack)

    # Its own 1.0-1 holds hello-web-0.1.0.tgz: 1.0-2 may not bring other bytes under it.
    changed = variant(helm, tmp_path, "hello-app", "1.0-2", ns=ns, web_value="changed")
    assert c.post("/v1/apps/update", json=upload_body(changed)).status_code == 200
    app = wait_for(get, lambda a: a["status"] != "updating", 180, "update")
    assert (app["status"], app["app_version"]) == ("update-failed", "1.0-1"), app
    assert app["progress"] == (
        "chart archive hello-web-0.1.0.tgz (chart hello-web 0.1.0 from "
        "charts/hello-web-0.1.0.tgz) differs from the hello-web-0.1.0.tgz that this "
        "application's version 1.0-1 holds in the chart repository. A chart version stands "
        "for one content: give the chart a new version (version in its Chart.yaml) and "
        "package it again"
    )
    assert repo_state(stack) == before
    assert holds(stack) == held
    assert not (stack.settings.apps_dir / "hello-app" / "1.0-2").exists()

    # With hello-web at 0.2.0 and no hello-worker, the update goes through; the archives
    # only 1.0-1 had leave the repository with it.
    c.patch("/v1/apps/hello-app?directive=apply", json={"values": {}})
    assert wait_for(get, lambda a: a["status"] != "applying", 180, "apply")["status"] == "applied"
    bumped = variant(helm, tmp_path, "hello-app", "1.0-3", ns=ns, web_value="changed",
                     web_version="0.2.0", drop_worker=True)  # fmt: skip
    assert c.post("/v1/apps/update", json=upload_body(bumped)).status_code == 200
    app = wait_for(get, lambda a: a["status"] != "updating", 180, "update")
    assert (app["status"], app["app_version"]) == ("applied", "1.0-3"), app
    now = {"hello-config-0.1.0.tgz", "hello-web-0.2.0.tgz"}
    assert {n for n in repo_state(stack) if n.endswith(".tgz")} == now
    assert indexed(stack) == now
    assert {(v, f) for _, v, f in holds(stack)} == {("1.0-3", f) for f in now}

    c.patch("/v1/apps/hello-app?directive=remove", json={"values": {}})
    assert wait_for(get, lambda a: a["status"] != "removing", 180, "remove")["status"] == "uploaded"
    assert c.delete("/v1/apps/hello-app").status_code == 204
    assert not any(n.endswith(".tgz") for n in repo_state(stack))
    assert holds(stack) == set()
