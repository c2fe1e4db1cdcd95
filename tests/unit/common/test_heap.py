"""The services serve with their startup heap frozen (sysinv_common.heap)."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from sysinv_api import main


def test_sysinv_api_serves_with_the_startup_heap_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[int] = []

    async def serve(_servers: Any) -> bool:
        frozen.append(gc.get_freeze_count())
        return True

    monkeypatch.setattr(main, "service_settings", lambda *_: object())
    monkeypatch.setattr(main, "_servers", lambda _settings: [])
    monkeypatch.setattr(main, "_serve", serve)
    try:
        main.main([])
    finally:
        gc.unfreeze()
    assert frozen and frozen[0] > 10000  # every module and model of the API
