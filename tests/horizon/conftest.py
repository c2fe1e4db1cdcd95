"""The browser tests' stack: a Keystone and a Horizon of their own (sysinv is registered in
this Keystone's catalog, which no other test must see), ``sysinv aio`` with Keystone auth
on the test cluster, and a headless chromium; a failed test leaves a screenshot."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.auth.test_cli_login import openrc, sysinv_env
from tests.e2e.conftest import BIN, Aio, start_aio, stop_aio
from tests.horizon.browser import ARTIFACTS, Browser, new_profile, start_chromium
from tests.servers import procs
from tests.servers.helm import HelmBinary
from tests.servers.horizon import HorizonServer
from tests.servers.keystone import KeystoneServer


@dataclass
class Platform:
    keystone: KeystoneServer
    horizon: HorizonServer
    aio: Aio
    helm: HelmBinary
    kube: Any


@pytest.fixture(scope="module")
def platform(
    kube_cluster: Any, helm4: HelmBinary, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    procs.install_cleanup()
    for stale in ARTIFACTS.glob("failed-*.png"):
        stale.unlink()
    keystone = KeystoneServer().start()
    horizon: HorizonServer | None = None
    aio: Aio | None = None
    try:
        data = tmp_path_factory.mktemp("horizon-aio") / "data"
        aio = start_aio(
            data, "--keystone-url", keystone.url, "--kubeconfig", str(kube_cluster.kubeconfig),
            env={**sysinv_env(keystone), "SYSINV_APPS__HELM_BINARY": str(helm4.path)},
        )  # fmt: skip
        registered = subprocess.run(
            [str(BIN / "sysinv"), "keystone-register"],
            env=openrc(keystone, keystone.admin, **sysinv_env(keystone, aio.url)),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert registered.returncode == 0, registered.stderr
        horizon = HorizonServer(keystone.url).start()
        yield Platform(keystone, horizon, aio, helm4, kube_cluster)
    finally:
        if horizon is not None:
            horizon.stop()
        if aio is not None:
            stop_aio(aio)
        keystone.stop()


@pytest.fixture
def browser(platform: Platform) -> Iterator[Browser]:
    profile = new_profile()
    driver = start_chromium(profile)
    try:
        yield Browser(driver, platform.horizon.url)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    browser = getattr(item, "funcargs", {}).get("browser")
    if report.when == "call" and report.failed and isinstance(browser, Browser):
        try:
            path: Path = browser.screenshot(f"failed-{item.name}")
            report.sections.append(("screenshot", str(path)))
        except Exception as exc:  # a dead browser must not hide the test's own failure
            report.sections.append(("screenshot", f"none: {exc}"))
