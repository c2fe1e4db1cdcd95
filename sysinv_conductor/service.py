"""A running conductor: two Celery workers and its periodic work.

The calls worker consumes ``<prefix>.conductor`` (answers within seconds); the apps
worker consumes ``<prefix>.conductor.apps`` with ``apps.workers`` threads, so an
application operation never holds up a label assign. Both acknowledge a message when its
task ends: a conductor killed mid-operation leaves it to the others, whose audit takes
the operation over once its lease expires.

Both workers wait out a broker outage, however long, and reconnect. A worker that stops
without being asked to (Celery gave up on it: "Unrecoverable error") stops the other
too, and ``run`` answers 1, the process's exit status, so that its service manager
starts it again; asked to stop (SIGTERM, SIGINT, ``stop()``), it answers 0.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from celery import Celery, bootsteps
from celery.signals import worker_shutting_down

from sysinv_common.conf import Settings
from sysinv_common.db.engine import Database
from sysinv_common.db.queries.system import get_platform_settings
from sysinv_common.errors import BrokerUnavailable
from sysinv_common.messaging.agents import AgentClient
from sysinv_common.messaging.app import (
    Lane,
    conductor_queue,
    is_embedded,
    make_celery,
    make_worker,
    preload_worker_modules,
    safe_url,
)
from sysinv_common.messaging.client import ConductorClient
from sysinv_common.messaging.rpcapi import ConductorAPI
from sysinv_common.messaging.tasks import AgentTask
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import apps as app_flows
from sysinv_conductor.kube.calico import apply_calico_resources
from sysinv_conductor.periodic import auditors
from sysinv_conductor.tasks import register_tasks

LOG = logging.getLogger(__name__)
#: How long a stop waits for a worker thread, asking it again every STOP_POLL seconds.
STOP_TIMEOUT, STOP_POLL = 10.0, 0.1


class ConductorService:
    def __init__(self, settings: Settings, app: Celery | None = None, db: Database | None = None):
        self.settings = settings
        self.app = app or make_celery(settings.messaging, name="sysinv-conductor")
        self.ctx = ConductorContext.build(settings, db)
        # The agents' master key, created at the first start: a bad one stops us here.
        self.ctx.agent_keys.load()
        client = ConductorClient(self.app, settings.messaging.call_timeout)
        self.ctx.conductor_api = ConductorAPI(client)
        self.ctx.agents = AgentClient(self.app, settings.messaging, broker=client.broker)
        # A Celery app selects the queues its worker consumes, so each worker has its own.
        self.apps_app = make_celery(settings.messaging, name=f"{self.app.main}-apps")
        register_tasks(self.app, self.ctx)
        register_tasks(self.apps_app, self.ctx)
        self.auditors = auditors(self.ctx)
        self._worker: Any = None
        self._apps_worker: Any = None
        self._thread: threading.Thread | None = None
        self._apps_thread: threading.Thread | None = None
        #: Set once this conductor is stopping: asked to, or because a worker failed.
        self._stopping = threading.Event()
        #: Why it stopped without being asked to; None while that has not happened.
        self.failure: str | None = None
        # Celery's signal handlers (TERM, INT, QUIT) stop every worker of the process.
        worker_shutting_down.connect(self._asked_to_stop)

    def _asked_to_stop(self, **_: Any) -> None:
        self._stopping.set()

    def _ended(self, which: str, worker: Any) -> None:
        """``worker``'s start() returned: expected once this conductor is stopping;
        otherwise Celery gave the worker up (its log says why), and the conductor stops."""
        self._fail(
            f"the {which} worker stopped (exit code {worker.exitcode}) without being asked to"
        )

    def _fail(self, reason: str) -> None:
        """Stop because of ``reason`` (unless already stopping): ``run`` answers 1, and the
        embedded mode stops rather than serve on without a conductor."""
        if self._stopping.is_set():
            return
        self.failure = reason
        self._stopping.set()
        LOG.error("%s; the conductor stops", reason)

    def _make_worker(self) -> Any:
        return make_worker(
            self.app, [conductor_queue(self.settings.messaging)],
            f"conductor@{self.ctx.conductor_id}", is_embedded(self.settings.messaging),
            concurrency=self.settings.messaging.call_workers,
        )  # fmt: skip

    def _run_apps_worker(self) -> None:
        # kombu's event loop is one per process and belongs to the calls worker. On the
        # in-memory transport (embedded mode) a thread pool left jobs unrun under load (seen
        # in the CLI's end-to-end test), so operations run there one at a time, in a solo
        # worker like every other worker of that mode.
        try:
            self._apps_worker = make_worker(
                self.apps_app, [conductor_queue(self.settings.messaging, Lane.APPS)],
                f"conductor-apps@{self.ctx.conductor_id}",
                solo=is_embedded(self.settings.messaging),
                concurrency=self.settings.apps.workers, event_loop=False,
            )  # fmt: skip
            self._apps_worker.start()  # returns once asked to close (_close_apps_worker)
            self._ended("apps", self._apps_worker)
            # Closed here, in the worker's own thread: from another thread the close would
            # race the worker's own read of the broker connection (and hang on Redis).
            self._apps_worker.stop(in_sighandler=False)
        except Exception as exc:
            LOG.exception("the apps worker could not run")
            self._fail(f"the apps worker could not run ({exc!r})")
            if self._apps_worker is not None:
                # Made, but its start (or its stop) raised: its pool and broker connection
                # are let go of here, in its own thread, as a normal stop would.
                with contextlib.suppress(Exception):
                    self._apps_worker.stop(in_sighandler=False)
        if self.failure and self._worker is not None:
            self._worker.stop(in_sighandler=False)

    def _close_apps_worker(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask the apps worker to stop taking jobs (its loop notices within 0.2 s, the
        messaging's STOP_NOTICE), and ask again while it is still starting: a stop right
        after start must not wait out the timeout for a worker that began after the first
        ask."""
        deadline = time.monotonic() + timeout
        while self._apps_thread is not None and self._apps_thread.is_alive():
            consumer = getattr(self._apps_worker, "consumer", None)
            if consumer is not None and consumer.blueprint is not None:
                consumer.blueprint.state = bootsteps.CLOSE
            if time.monotonic() > deadline:
                return
            self._apps_thread.join(STOP_POLL)

    def run(self) -> int:
        """Serve until asked to stop (SIGTERM/SIGINT, ``stop()``): then 0; 1 when a worker
        stopped on its own (``failure`` says which)."""
        LOG.info(
            "conductor %s consuming %s and %s on %s; Kubernetes: %s",
            self.ctx.conductor_id,
            conductor_queue(self.settings.messaging),
            conductor_queue(self.settings.messaging, Lane.APPS),
            safe_url(self.app.conf.broker_url),
            self.settings.kubernetes.kubeconfig or "not configured",
        )
        try:
            preload_worker_modules()  # before the two workers start in two threads
            threading.Thread(target=self._start_up, name="sysinv-start-up", daemon=True).start()
            for auditor in self.auditors:
                auditor.start()
            # Agents report where they stand again, so a restored or replaced conductor
            # database catches up with the nodes at once rather than heartbeat by heartbeat.
            if self.ctx.agents is not None:
                # Not sent during a broker outage (logged once): agents report by heartbeat.
                with contextlib.suppress(BrokerUnavailable):
                    self.ctx.agents.broadcast(AgentTask.RESYNC)
            self._apps_thread = threading.Thread(
                target=self._run_apps_worker, name="sysinv-conductor-apps", daemon=True
            )
            self._apps_thread.start()
            self._worker = self._make_worker()
            if not self._stopping.is_set():
                self._worker.start()
            self._ended("calls", self._worker)
        except Exception as exc:
            # Said and stopped on, not left to kill a thread quietly: in the embedded mode
            # the API would go on answering with no conductor behind it.
            LOG.exception("the conductor could not run")
            self._fail(f"the conductor could not run ({exc!r})")
        finally:
            # An operation the apps worker was running stays this conductor's lease,
            # recovered when it starts again (or by another conductor's audit once the
            # lease expires).
            self._stop_background()
        return 1 if self.failure else 0

    def _start_up(self) -> None:
        """What a (re)started conductor settles first: the operations it left behind
        (leases of its own name), and the cluster-wide resources."""
        try:
            embedded = is_embedded(self.settings.messaging)
            app_flows.recover(self.ctx, at_start=True, everything=embedded)
        except Exception:
            LOG.exception("recovering interrupted application operations failed")
        self._cluster_resources()

    def _cluster_resources(self) -> None:
        """The cluster-wide Calico resources from the pod subnet (idempotent)."""
        api = self.ctx.kube_api
        if api is None:
            return
        with self.ctx.db.session() as s:
            pod_subnet = get_platform_settings(s).pod_subnet
        try:
            done = apply_calico_resources(api, pod_subnet)
        except Exception as exc:
            LOG.warning("Calico resources not applied: %s", exc)
            return
        LOG.info("Calico resources: %s", ", ".join(done) or "unchanged")

    def start_in_thread(self, on_failure: Callable[[], None] | None = None) -> None:
        """``run`` in a thread of its own; ``on_failure`` is called there if a worker
        stopped on its own (the embedded mode stops then)."""

        def run() -> None:
            if self.run() and on_failure is not None:
                on_failure()

        self._thread = threading.Thread(target=run, name="sysinv-conductor", daemon=True)
        self._thread.start()

    def _stop_background(self) -> None:
        for auditor in self.auditors:
            auditor.stop()
        self._close_apps_worker()

    def stop(self) -> None:
        self._stopping.set()
        self._stop_background()
        # Asked again until the thread ends: a worker made after the first ask (a SIGTERM
        # right after start) is stopped by a later one.
        deadline = time.monotonic() + STOP_TIMEOUT
        while self._thread is not None and self._thread.is_alive():
            if self._worker is not None:
                self._worker.stop(in_sighandler=False)
            if time.monotonic() > deadline:
                return
            self._thread.join(STOP_POLL)
