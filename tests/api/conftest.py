"""API tests run twice: on SQLite and on the throwaway PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack import Stack, make_settings, running_stack


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("sysinv")
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_db_url")
    with running_stack(make_settings(tmp, url)) as s:
        yield s


@pytest.fixture
def api(stack: Stack) -> Iterator[Stack]:
    stack.reset()
    yield stack
