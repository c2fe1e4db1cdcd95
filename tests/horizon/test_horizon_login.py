"""The test Horizon (from PyPI, its own venv) logs users in against the test Keystone and
shows sysinv's Platform dashboard."""

from __future__ import annotations

import contextlib

import pytest

from tests.servers.horizon import HorizonServer
from tests.servers.keystone import KeystoneServer
from tests.servers.ports import free_port

pytestmark = pytest.mark.keystone


def test_admin_logs_in_and_sees_the_platform_dashboard(
    horizon: HorizonServer, keystone: KeystoneServer
) -> None:
    with contextlib.closing(
        horizon.login(keystone.admin.username, keystone.admin.password)
    ) as client:
        page = client.get("/platform/sysinv_system/")
        assert page.status_code == 200
        assert str(page.url).endswith("/platform/sysinv_system/"), page.url
        # Logged in: the user menu names the user; the sidebar has the plugin's panels.
        assert keystone.admin.username in page.text
        # Hosts is the dashboard's default panel: /platform/ itself.
        for panel in ("", "sysinv_applications/", "sysinv_system/"):
            assert f'href="/platform/{panel}"' in page.text


def test_a_wrong_password_stays_on_the_login_page(
    horizon: HorizonServer, keystone: KeystoneServer
) -> None:
    with contextlib.closing(horizon.login(keystone.admin.username, "not-the-password")) as client:
        page = client.get("/platform/sysinv_system/")
        assert "/auth/login/" in str(page.url)
        assert 'name="password"' in page.text


def test_an_unreachable_sysinv_is_a_message_not_an_error_page(
    keystone: KeystoneServer,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    # SYSINV_URL pins the endpoint (no catalog entry needed) to a port nobody serves.
    server = HorizonServer(keystone.url, sysinv_url=dead).start()
    try:
        with contextlib.closing(
            server.login(keystone.admin.username, keystone.admin.password)
        ) as client:
            for path in ("/platform/", "/platform/sysinv_applications/",
                         "/platform/sysinv_overrides/", "/platform/sysinv_alarms/",
                         "/platform/sysinv_system/"):  # fmt: skip
                page = client.get(path)
                assert page.status_code == 200, (path, page.status_code)
                assert f"Cannot reach sysinv at {dead}/v1" in page.text, path
            # A page about one object goes back to its list, with the message.
            page = client.get("/platform/0b6c51d8-0000-0000-0000-000000000000/")
            assert str(page.url).endswith("/platform/"), page.url
            assert f"Cannot reach sysinv at {dead}/v1" in page.text
    finally:
        server.stop()
