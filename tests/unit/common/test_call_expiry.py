"""A call whose message expired before any conductor took it (a broker outage, every
worker busy) is answered as the conductor being unavailable (503: try again), not as a
conductor crash (500): a worker that receives an expired message records it revoked."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from celery.signals import before_task_publish

from sysinv_common.conf import load_settings
from sysinv_common.errors import ConductorUnavailable
from sysinv_common.messaging.app import make_celery
from sysinv_common.messaging.client import ConductorClient


def test_a_call_that_expired_unrun_is_unavailable_not_a_crash(tmp_path: Any) -> None:
    settings = load_settings(state_dir=tmp_path)
    settings.messaging.broker_url = "memory://"
    settings.messaging.queue_prefix = f"t{uuid.uuid4().hex[:8]}.sysinv"
    app = make_celery(settings.messaging, name=f"expiry-{uuid.uuid4().hex[:6]}")
    client = ConductorClient(app, 10)
    published: list[str] = []

    def record(headers: dict[str, Any] | None = None, **_: Any) -> None:
        if headers and headers.get("task") == "sysinv.conductor.ping":
            published.append(headers["id"])

    def expire_it() -> None:
        # What a worker does with a message past its expiry: it records it revoked.
        while not published:
            threading.Event().wait(0.01)
        app.backend.mark_as_revoked(published[0], reason="expired")

    before_task_publish.connect(record, weak=False)
    worker = threading.Thread(target=expire_it, daemon=True)
    worker.start()
    try:
        with pytest.raises(ConductorUnavailable, match="it was not run"):
            client.call("sysinv.conductor.ping", {}, timeout=10)
    finally:
        before_task_publish.disconnect(record)
        worker.join(5)
