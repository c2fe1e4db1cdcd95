"""The test Horizon (from PyPI, its own venv) logs users in against the test Keystone and
shows sysinv's Platform dashboard."""

from __future__ import annotations

import contextlib

import pytest

from tests.servers.horizon import HorizonServer
from tests.servers.keystone import KeystoneServer

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
