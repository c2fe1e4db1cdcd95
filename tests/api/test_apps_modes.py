"""``application-apply -m MODE``: the mode comes in ``values``, and only a mode the app's
metadata.yaml declares (``behavior.apply_modes``) is accepted, as StarlingX's client
sends it: ``PATCH /v1/apps/<app>?directive=apply`` with
``{"values": {"mode": MODE, "client_side": false}}``."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_hosts import fault
from tests.integration.example_app import build_variant
from tests.servers.helm import HelmBinary
from tests.stack import Stack, make_settings, running_stack, wait_done

MODES = {"behavior": {"apply_modes": ["normal", "restore_db"]}}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, helm3: HelmBinary
) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("modes")
    url = request.getfixturevalue("postgres_db_url") if request.param == "postgres" else None
    settings = make_settings(tmp / "state", url)
    settings.apps.helm_binary = str(helm3.path)
    with running_stack(settings) as s:
        yield s


def upload(api: Stack, bundle: Path) -> None:
    body = {
        "tarfile": str(bundle),
        "binary_data": base64.urlsafe_b64encode(bundle.read_bytes()).decode(),
    }
    r = api.client.post("/v1/apps", json=body)
    assert r.status_code == 200, r.text
    assert wait_done(api, "hello-app")["status"] == "uploaded"


def apply(api: Stack, values: dict[str, Any]) -> Any:
    return api.client.patch("/v1/apps/hello-app?directive=apply", json={"values": values})


def test_a_declared_mode_is_accepted_any_other_refused(
    stack: Stack, helm3: HelmBinary, tmp_path: Path
) -> None:
    stack.reset()
    upload(stack, build_variant(helm3, tmp_path, "modes", metadata=MODES))
    r = apply(stack, {"mode": "restore_storage", "client_side": False})
    assert r.status_code == 400
    assert fault(r) == (
        "Application-apply rejected: mode 'restore_storage' is not one of the apply modes "
        "hello-app 1.0-1 declares (behavior.apply_modes in its metadata.yaml): "
        "normal, restore_db"
    )
    r = apply(stack, {"mode": ["normal"], "client_side": False})
    assert r.status_code == 400 and "the mode must be a string" in fault(r)
    # Accepted: the apply goes on to its next check (this stack has no cluster).
    r = apply(stack, {"mode": "restore_db", "client_side": False})
    assert r.status_code == 400
    assert "no Kubernetes cluster configured" in fault(r)
    # Without -m the client sends no mode at all.
    r = apply(stack, {"client_side": False})
    assert "no Kubernetes cluster configured" in fault(r)
    assert stack.client.get("/v1/apps/hello-app").json()["status"] == "uploaded"


def test_an_app_that_declares_no_modes_takes_none(
    stack: Stack, helm3: HelmBinary, tmp_path: Path
) -> None:
    stack.reset()
    upload(stack, build_variant(helm3, tmp_path, "nomodes"))
    r = apply(stack, {"mode": "normal", "client_side": False})
    assert r.status_code == 400
    assert fault(r) == (
        "Application-apply rejected: hello-app 1.0-1 declares no apply modes "
        "(behavior.apply_modes in its metadata.yaml); apply it without a mode"
    )
    # A mode is checked once the status allows an apply at all, as sysinv does.
    r = stack.client.patch("/v1/apps/nope?directive=apply", json={"values": {"mode": "x"}})
    assert r.status_code == 400 and "application nope not found" in fault(r)
