"""A sysinv stack with authentication on, against the test Keystone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sysinv_common.conf import AuthMode, Settings
from tests.servers.keystone import KeystoneServer
from tests.stack import Stack, make_settings, running_stack


def keystone_settings(settings: Settings, keystone: KeystoneServer) -> Settings:
    settings.api.auth = AuthMode.KEYSTONE
    ks = settings.keystone
    ks.auth_url = keystone.url
    ks.username = keystone.service.username
    ks.password = keystone.service.password  # type: ignore[assignment]
    ks.project_name = keystone.service.project_name
    return Settings.model_validate(settings.model_dump())  # the password as a SecretStr


@pytest.fixture(scope="module")
def secured(keystone: KeystoneServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("secured")
    settings = keystone_settings(make_settings(tmp), keystone)
    with running_stack(settings) as stack:
        yield stack


@pytest.fixture(scope="module")
def tokens(keystone: KeystoneServer) -> dict[str, str]:
    return {
        "admin": keystone.token(keystone.admin),
        "reader": keystone.token(keystone.reader),
        "other": keystone.token(keystone.other),
        "outsider": keystone.token(keystone.outsider),
    }
