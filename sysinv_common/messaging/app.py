"""The Celery application shared by the API (sender), the conductor and the agents.

Queue names mirror sysinv's RPC topics: ``sysinv.conductor`` (calls),
``sysinv.conductor.apps`` (long application operations), ``sysinv.agent.<hostname>`` and
the broadcast ``sysinv.agent.all`` (``sysinv`` is ``messaging.queue_prefix``).
The embedded mode uses Celery's in-memory transport with workers in the same process,
never eager mode: messages are still serialized as JSON and routed exactly as on Redis.
"""

from __future__ import annotations

import importlib
import logging
from enum import StrEnum
from typing import Any

from celery import Celery
from celery.worker import loops
from celery.worker.consumer import Consumer
from kombu import Exchange, Queue
from kombu.common import Broadcast

from sysinv_common import logs
from sysinv_common.conf.messaging import MessagingSettings
from sysinv_common.messaging import broker, memory

# Losing the broker fails as such, and is told once (see that module).
broker.install()


class Lane(StrEnum):
    """The conductor's two queues: quick calls, and application operations that run for
    minutes and must never hold up a quick call."""

    CALLS = "calls"
    APPS = "apps"


def conductor_queue(settings: MessagingSettings, lane: Lane = Lane.CALLS) -> str:
    base = f"{settings.queue_prefix}.conductor"
    return base if lane is Lane.CALLS else f"{base}.{lane.value}"


def agent_queue(settings: MessagingSettings, hostname: str) -> str:
    return f"{settings.queue_prefix}.agent.{hostname}"


def agent_broadcast(settings: MessagingSettings) -> str:
    return f"{settings.queue_prefix}.agent.all"


def broadcast_queue(settings: MessagingSettings) -> Broadcast:
    """The all-agents fanout: each consumer gets its own copy of every message.

    The routing key is set here for sender and consumers alike: kombu's Redis fanout
    publishes to a topic that includes it, and Celery would otherwise fill in its default
    key on the consumer's side only."""
    name = agent_broadcast(settings)
    return Broadcast(name, routing_key=name)


def is_embedded(settings: MessagingSettings) -> bool:
    return settings.broker_url.startswith("memory://")


def safe_url(url: str) -> str:
    """``url`` fit for a log line: each password in it masked as ``**``, as Celery's
    banner prints it (``redis://:**@host:6379/0``); ``;`` separates several URLs."""
    return ";".join(_masked(part) for part in url.split(";"))


def _masked(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    if not sep or not at:
        return url
    user = userinfo.partition(":")[0]
    return f"{scheme}://{user}:**@{host}{slash}{path}"


def result_backend(settings: MessagingSettings) -> str:
    if settings.result_backend:
        return settings.result_backend
    if is_embedded(settings):
        # Celery's in-memory cache backend, whose waiters wake when a result is stored.
        return memory.RESULT_BACKEND
    return settings.broker_url


def make_celery(settings: MessagingSettings, name: str = "sysinv") -> Celery:
    app = Celery(name, broker=settings.broker_url, backend=result_backend(settings))
    queue = conductor_queue(settings)
    apps = conductor_queue(settings, Lane.APPS)
    if is_embedded(settings):
        # kombu's in-memory transport, whose consumers wake when a message is put
        # (``memory``); polled every 20 ms at most for a message put around it.
        app.conf.broker_transport = memory.TRANSPORT
        app.conf.broker_transport_options = {"polling_interval": 0.02}
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=queue,
        task_queues=[
            Queue(queue, Exchange(queue), routing_key=queue),
            Queue(apps, Exchange(apps), routing_key=apps),
        ],
        # A conductor that dies mid-task leaves the message for another one.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        # A broker outage of any length is waited out in the process: the workers
        # reconnect (every 2 s, then up to every 30 s) for as long as it takes, and
        # senders answer ConductorUnavailable meanwhile. Celery's default gives up after
        # 100 attempts (about 45 minutes) and stops the worker.
        broker_connection_retry=True,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        # A task running when the connection is lost runs on (a thread cannot be
        # cancelled; an application operation holds its lease); Celery warns at each
        # reconnection that its default will change (silenced below).
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # Answers may carry secrets (helm-override-show --show-secrets): keep them
        # briefly, and never in the log (celery.app.trace prints each task's result).
        result_expires=300,
        task_track_started=False,
        # How long a result is retried over a lost Redis: about 1.5 s, then the conductor
        # gives up storing it and a caller waiting for one answers BrokerUnavailable
        # (Celery's default: 20 retries a second apart, beyond any call's timeout).
        result_backend_transport_options={
            "retry_policy": {
                "max_retries": 3,
                "interval_start": 0,
                "interval_step": 0.5,
                "interval_max": 1,
            }
        },
    )
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
    return app


#: What Celery imports the first time a worker is made or started (as of celery 5.5, in
#: both messaging modes). A conductor starts two workers at once (the calls and the apps
#: lane): two threads importing one of these at the same moment can fail with Python's
#: import deadlock error (CI saw ``_DeadlockError`` on ``celery.events.receiver``, and the
#: conductor lost a worker), so :func:`preload_worker_modules` imports them first.
#: ``tests/integration/test_worker_start.py`` checks that starting imports nothing more.
WORKER_MODULES = (
    "billiard.pool", "celery.app.amqp", "celery.app.control", "celery.app.events",
    "celery.app.log", "celery.app.routes", "celery.apps.worker", "celery.backends.redis",
    "celery.concurrency.solo", "celery.concurrency.thread", "celery.events",
    "celery.fixups.django", "celery.loaders.app", "celery.utils.debug", "celery.utils.static",
    "celery.worker.autoscale", "celery.worker.components",
    "celery.worker.consumer.delayed_delivery", "celery.worker.strategy", "kombu.matcher",
    "kombu.mixins", "kombu.pidbox",
)  # fmt: skip


def preload_worker_modules() -> None:
    """Import :data:`WORKER_MODULES` in this thread, before workers start in others."""
    for name in WORKER_MODULES:
        importlib.import_module(name)


def make_worker(
    app: Celery,
    queues: list[str],
    hostname: str,
    solo: bool,
    concurrency: int = 4,
    event_loop: bool | None = None,
) -> Any:
    """A worker for ``app``; call it from the thread that will run it.

    Several workers may share one process (the conductor's calls and apps workers, the
    embedded mode's local agent; tests). Celery's fast task tracing keeps one
    process-global task registry, that of the last worker built, so each worker here
    traces through its own app instead. kombu's event loop is process-global too: only
    one worker of a process may use it, the others pass ``event_loop=False``.
    """
    app.set_current()
    worker = app.Worker(
        queues=queues,
        consumer_cls=QuickStopConsumer,
        # solo: one message at a time, in order (the in-memory transport's one consumer,
        # an agent); otherwise a few threads, so a slow call does not hold up the others.
        pool="solo" if solo else "threads",
        concurrency=1 if solo else concurrency,
        use_eventloop=event_loop,
        hostname=hostname,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        loglevel="INFO",
        # Celery's banner (its configuration and every task's name) only when verbose.
        quiet=not logs.verbose(),
    )
    app.use_fast_trace_task = False
    return worker


#: How soon a worker without an event loop notices it was asked to stop (Celery's own
#: blocking loop looks every 2 s, which is the whole of a service's stop budget).
STOP_NOTICE = 0.2


class _ShortDrain:
    """A broker connection whose blocking waits last at most ``STOP_NOTICE``."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def drain_events(self, timeout: float | None = None, **kwargs: Any) -> Any:
        wait = STOP_NOTICE if timeout is None else min(timeout, STOP_NOTICE)
        return self._connection.drain_events(timeout=wait, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __bool__(self) -> bool:
        return bool(self._connection)


def _quick_synloop(obj: Any, connection: Any, *args: Any, **kwargs: Any) -> Any:
    return loops.synloop(obj, _ShortDrain(connection), *args, **kwargs)


class QuickStopConsumer(Consumer):  # type: ignore[misc]
    """Celery's consumer, whose blocking loop (workers without kombu's event loop: the
    embedded mode's, the conductor's apps worker) stops within ``STOP_NOTICE``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        loop: Any = getattr(self, "loop", None)
        if loop is loops.synloop:
            self.loop = _quick_synloop
