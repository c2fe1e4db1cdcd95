"""A release name belongs to one application: on the real cluster, with helm 3 and helm 4,
two bundles of the example app under different names claim the same releases; the one
applied first keeps them (per our records and per helm's release labels), the other is
refused before anything changes, and its remove leaves them alone."""

from __future__ import annotations

import json
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from armada.deployers.helm import OWNER_LABEL
from armada.events import Event
from sysinv_common.db.models import App, AppRelease
from sysinv_conductor.deployers import make_deployer
from sysinv_conductor.flows import apps as apps_flow
from sysinv_conductor.flows.operation import AppSnapshot
from tests.api.test_hosts import fault
from tests.integration.example_app import build_variant
from tests.integration.test_apps_interrupted import helm_releases
from tests.integration.test_apps_lifecycle import upload_body
from tests.servers.helm import HelmBinary
from tests.stack import Stack, make_settings, running_stack, wait_done

pytestmark = pytest.mark.kube


@pytest.fixture
def stack(kube_cluster: Any, helm: HelmBinary, tmp_path: Path) -> Iterator[Stack]:
    settings = make_settings(tmp_path / "state")
    settings.kubernetes.kubeconfig = str(kube_cluster.kubeconfig)
    settings.apps.helm_binary = str(helm.path)
    settings.kubernetes.label_audit_interval = 3600
    with running_stack(settings) as s:
        yield s


def helm_json(helm: HelmBinary, kube: Any, home: Path, *args: str) -> Any:
    out = subprocess.run(
        [str(helm.path), "--kubeconfig", str(kube.kubeconfig), *args, "-o", "json"],
        env=helm.env(home), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def test_a_release_belongs_to_the_application_that_deployed_it(
    stack: Stack, kube_cluster: Any, helm: HelmBinary, helm_home: Path, tmp_path: Path
) -> None:
    ns = f"own-{uuid.uuid4().hex[:6]}"
    c = stack.client
    core = kube_cluster.core_v1()
    cm = f"hello-config-{ns}-settings"
    for name, greeting in (("app-a", "from a"), ("app-b", "from b")):
        bundle = build_variant(helm, tmp_path, ns, greeting=greeting, app_name=name)
        assert c.post("/v1/apps", json=upload_body(bundle)).status_code == 200
        assert wait_done(stack, name)["status"] == "uploaded"
    try:
        assert c.patch("/v1/apps/app-a?directive=apply", json={"values": {}}).status_code == 200
        assert wait_done(stack, "app-a")["status"] == "applied"

        def deployed() -> dict[str, str]:
            rels = helm_releases(helm, kube_cluster.kubeconfig, helm_home, ns)
            return {r["name"]: str(r["revision"]) for r in rels}

        releases = deployed()
        assert len(releases) == 4 and set(releases.values()) == {"1"}

        def refused(owner: str) -> str:
            r = c.patch("/v1/apps/app-b?directive=apply", json={"values": {}})
            assert r.status_code == 400, r.text
            message = fault(r)
            assert message.startswith("Application-apply of app-b rejected: release ")
            for release in releases:
                assert f"release {release} in namespace {ns} belongs to {owner}" in message
            # Nothing changed: app-b not started, app-a's releases untouched.
            assert c.get("/v1/apps/app-b").json()["status"] == "uploaded"
            assert deployed() == releases
            assert core.read_namespaced_config_map(cm, ns).data["GREETING"] == "from a"
            return message

        # 1. Per our records (app_releases).
        message = refused("application app-a")
        assert "remove the other application" in message

        # Each release carries its owner in helm's own release labels.
        labelled = helm_json(helm, kube_cluster, helm_home, "list", "-n", ns,
                             "--selector", f"{OWNER_LABEL}=app-a")  # fmt: skip
        assert {r["name"] for r in labelled} == set(releases)

        # 2. Per helm alone: our records of app-a's releases are gone.
        with stack.db.session() as s:
            app_a = s.scalars(select(App).where(App.name == "app-a")).one()
            s.execute(delete(AppRelease).where(AppRelease.app_id == app_a.id))
        refused("application app-a")

        # 3. The deployer's own last check, as in the job: app-b's plan straight to helm.
        ctx = stack.conductor.ctx
        with stack.db.session() as s:
            app_b = AppSnapshot.of(s.scalars(select(App).where(App.name == "app-b")).one())
        plan = apps_flow._plan(ctx, app_b)
        assert plan.owner == "app-b"
        events: list[Event] = []
        result = make_deployer(ctx).apply(plan, events.append, threading.Event())
        assert not result.ok
        assert result.outcomes[0].status == "refused"
        # helm 4 shows the label (app-a); helm 3 only tells it is not app-b's.
        assert "belongs to another owner (" in result.message
        assert f"{OWNER_LABEL}=app-a)" in result.message or "is not app-b)" in result.message
        assert result.message.endswith("left alone")
        assert deployed() == releases

        # 4. A remove of app-b (say its apply failed) leaves app-a's releases installed.
        with stack.db.session() as s:
            s.execute(update(App).where(App.name == "app-b").values(status="apply-failed"))
        r = c.patch("/v1/apps/app-b?directive=remove", json={"values": {}})
        assert r.status_code == 200, r.text
        assert wait_done(stack, "app-b")["status"] == "uploaded"
        assert deployed() == releases
        with stack.db.session() as s:
            assert s.scalars(select(AppRelease).where(AppRelease.app_id == app_b.id)).all() == []

        # 5. An owner this sysinv does not know (app-a gone from our database).
        with stack.db.session() as s:
            s.execute(delete(App).where(App.name == "app-a"))
        refused("another owner (")
    finally:
        for release in helm_releases(helm, kube_cluster.kubeconfig, helm_home, ns):
            subprocess.run(
                [str(helm.path), "--kubeconfig", str(kube_cluster.kubeconfig), "uninstall",
                 release["name"], "-n", ns, "--wait"],
                env=helm.env(helm_home), capture_output=True, check=False,
            )  # fmt: skip
