"""The embedded mode's broker and result store wake their waiters (no 20 ms polling):
with a poll interval of an hour, a message put or a result stored from another thread
still reaches the waiter, which would otherwise wait out its whole timeout."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import TimeoutError as CeleryTimeout
from kombu import Connection, Exchange, Queue

from sysinv_common.conf.messaging import MessagingSettings
from sysinv_common.messaging import memory
from sysinv_common.messaging.app import make_celery

HOUR = 3600.0
#: Far beyond a wake-up, far below the hour a poll would sleep.
LIVENESS = 30.0


def later(action: object) -> threading.Timer:
    timer = threading.Timer(0.2, action)  # type: ignore[arg-type]
    timer.start()
    return timer


def finishes(work: Callable[[], object]) -> list[object]:
    """``work`` run with no timeout of its own: what it answered once it returned, or
    nothing when it still waits after LIVENESS seconds (it would sleep an hour)."""
    done: list[object] = []
    thread = threading.Thread(target=lambda: done.append(work()), daemon=True)
    thread.start()
    thread.join(LIVENESS)
    return done


def test_a_consumer_wakes_when_a_message_is_put() -> None:
    name = f"wake-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, Exchange(name), routing_key=name)
    got: list[object] = []
    conn = Connection("memory://", transport=memory.TRANSPORT,
                      transport_options={"polling_interval": HOUR})  # fmt: skip
    with conn, conn.Consumer(queue, callbacks=[lambda body, msg: got.append(body)],
                             accept=["json"]):  # fmt: skip
        producer = conn.Producer(serializer="json")
        timer = later(lambda: producer.publish({"n": 1}, exchange=queue.exchange,
                                               routing_key=name, declare=[queue]))  # fmt: skip
        assert finishes(conn.drain_events) == [None]
        timer.join()
    assert got == [{"n": 1}]


def test_a_drain_with_nothing_put_times_out() -> None:
    with Connection("memory://", transport=memory.TRANSPORT) as conn:
        name = f"idle-{uuid.uuid4().hex[:8]}"
        with conn.Consumer(Queue(name, Exchange(name), routing_key=name)), \
                pytest.raises(TimeoutError):  # fmt: skip
            conn.drain_events(timeout=0.05)


@pytest.fixture
def app() -> Celery:
    return make_celery(MessagingSettings(queue_prefix=f"t{uuid.uuid4().hex[:8]}"))


def test_the_embedded_app_uses_them(app: Celery) -> None:
    assert isinstance(app.backend, memory.ResultBackend)
    assert app.conf.broker_transport == memory.TRANSPORT


def test_a_result_waiter_wakes_when_the_result_is_stored(app: Celery) -> None:
    task_id = str(uuid.uuid4())
    timer = later(lambda: app.backend.store_result(task_id, {"ok": 1}, "SUCCESS"))
    answered = finishes(lambda: app.backend.wait_for(task_id, interval=HOUR))
    timer.join()
    assert len(answered) == 1
    meta: Any = answered[0]
    assert meta["status"] == "SUCCESS"
    assert meta["result"] == {"ok": 1}


def test_a_result_never_stored_times_out(app: Celery) -> None:
    with pytest.raises(CeleryTimeout):
        app.backend.wait_for(str(uuid.uuid4()), timeout=0.05, interval=HOUR)
