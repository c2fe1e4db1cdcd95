"""A running conductor: its Celery worker on ``sysinv.conductor`` and its periodic work."""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import Celery

from sysinv_common.conf import Settings
from sysinv_common.db.engine import Database
from sysinv_common.db.queries.system import get_platform_settings
from sysinv_common.messaging.agents import AgentClient
from sysinv_common.messaging.app import (
    conductor_queue,
    is_embedded,
    make_celery,
    make_worker,
)
from sysinv_common.messaging.tasks import AgentTask
from sysinv_common.states import app as app_states
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import apps as app_flows
from sysinv_conductor.kube.calico import apply_calico_resources
from sysinv_conductor.periodic import auditors
from sysinv_conductor.tasks import register_tasks

LOG = logging.getLogger(__name__)


class ConductorService:
    def __init__(self, settings: Settings, app: Celery | None = None, db: Database | None = None):
        self.settings = settings
        self.app = app or make_celery(settings.messaging, name="sysinv-conductor")
        self.ctx = ConductorContext.build(settings, db)
        self.ctx.agents = AgentClient(self.app, settings.messaging)
        register_tasks(self.app, self.ctx)
        self.auditors = auditors(self.ctx)
        self._worker: Any = None
        self._thread: threading.Thread | None = None

    def _make_worker(self) -> Any:
        return make_worker(
            self.app, [conductor_queue(self.settings.messaging)],
            f"conductor@{self.ctx.conductor_id}", is_embedded(self.settings.messaging),
        )  # fmt: skip

    def run(self) -> None:
        """Serve until the worker is told to stop (SIGTERM/SIGINT)."""
        LOG.info(
            "conductor %s consuming %s on %s; Kubernetes: %s",
            self.ctx.conductor_id,
            conductor_queue(self.settings.messaging),
            self.app.conf.broker_url.split("@")[-1],
            self.settings.kubernetes.kubeconfig or "not configured",
        )
        self.recover()
        for auditor in self.auditors:
            auditor.start()
        # Agents report where they stand again, so a restored or replaced conductor
        # database catches up with the nodes at once rather than heartbeat by heartbeat.
        if self.ctx.agents is not None:
            self.ctx.agents.broadcast(AgentTask.RESYNC)
        self.ctx.background.submit(self._cluster_resources)
        self._worker = self._make_worker()
        try:
            self._worker.start()
        finally:
            for auditor in self.auditors:
                auditor.stop()

    def recover(self) -> list[int]:
        """Fail the app operations a dead conductor (or this one, before a restart) left,
        then resolve the releases they left pending, in the background."""
        with self.ctx.db.session() as session:
            failed = app_states.recover(session, self.ctx.conductor_id)
        for app_id in failed:
            LOG.warning("application %s: operation aborted: conductor restarted", app_id)
            self.ctx.background.submit(self._clear_pending, app_id)
        return failed

    def _clear_pending(self, app_id: int) -> None:
        try:
            app_flows.clear_pending(self.ctx, app_id)
        except Exception:
            LOG.exception("application %s: could not resolve its pending releases", app_id)

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

    def start_in_thread(self) -> None:
        self._thread = threading.Thread(target=self.run, name="sysinv-conductor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        for auditor in self.auditors:
            auditor.stop()
        self.ctx.background.shutdown(wait=False, cancel_futures=True)
        if self._worker is not None:
            self._worker.stop(in_sighandler=False)
        if self._thread is not None:
            self._thread.join(timeout=10)
