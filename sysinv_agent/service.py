"""The agent process: register, heartbeat, and apply what the conductor sends.

It consumes its host's queue (and, on Redis, the all-agents broadcast) with a one-thread
Celery worker, so configurations apply one at a time in the order they were sent. The
target it last applied is kept on disk, so a restarted agent says where it stands and the
conductor sends it the current target if that is newer. Every report is signed with this
host's key (``agent.key_file``), which the conductor checks.
"""

from __future__ import annotations

import contextlib
import logging
import random
import socket
import threading
import time
from typing import Any

from celery import Celery
from celery.signals import worker_shutting_down
from kombu import Exchange, Queue

from sysinv_agent.configurators import NodeContext, apply_all
from sysinv_agent.fs import atomic_write, rooted
from sysinv_agent.inventory import collect, mgmt_interface
from sysinv_agent.runner import RecordingRunner, Runner, SubprocessRunner
from sysinv_common.agent_proof import load_host_key
from sysinv_common.conf import Settings
from sysinv_common.errors import InvalidInput, SysinvError, Unavailable
from sysinv_common.messaging.app import (
    agent_queue,
    broadcast_queue,
    is_embedded,
    make_celery,
    make_worker,
    preload_worker_modules,
)
from sysinv_common.messaging.client import ConductorClient
from sysinv_common.messaging.rpcapi import ConductorAPI
from sysinv_common.messaging.tasks import AgentTask
from sysinv_common.nodeconfig import HostConfig
from sysinv_common.version import SOFTWARE_VERSION

LOG = logging.getLogger(__name__)
#: How long a stop waits for its threads, asking the worker again every STOP_POLL seconds.
STOP_TIMEOUT, STOP_POLL = 10.0, 0.1
STATE = "/var/lib/sysinv-agent"


def resolve_hostname(settings: Settings) -> str:
    if settings.agent.hostname:
        return settings.agent.hostname
    root = settings.agent.inventory_root or settings.agent.root
    try:
        name = rooted(root, "/etc/hostname").read_text().strip()
    except OSError:
        name = ""
    return name or socket.gethostname()


class Agent:
    """This node's agent. ``key`` signs its reports: read from ``agent.key_file`` unless
    given (the embedded mode's local agent gets it from the conductor's master key)."""

    def __init__(
        self, settings: Settings, app: Celery | None = None, key: bytes | None = None
    ) -> None:
        self.settings = settings
        self.hostname = resolve_hostname(settings)
        self.queue = agent_queue(settings.messaging, self.hostname)
        if key is None:
            key = load_host_key(settings.agent.key_file, self.hostname)
        self.app = app or make_celery(settings.messaging, name=f"sysinv-agent-{self.hostname}")
        self.conductor = ConductorAPI(
            ConductorClient(self.app, settings.messaging.call_timeout), agent_key=key
        )
        root = settings.agent.root
        runner: Runner = (
            RecordingRunner(rooted(root, f"{STATE}/commands.log"), settings.agent.record_failures)
            if settings.agent.record_commands
            else SubprocessRunner()
        )
        interface = settings.agent.cluster_host_interface or mgmt_interface(
            settings.agent.inventory_root or root
        )
        self.node = NodeContext(root, runner, interface)
        self._applied_file = rooted(root, f"{STATE}/applied-target")
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.registered = threading.Event()
        #: The conductor refused this agent (it reported for another host).
        self.refused: str | None = None
        #: Asked to stop: by a signal (Celery's handlers: TERM, INT, QUIT) or ``stop()``.
        self._asked_to_stop = threading.Event()
        worker_shutting_down.connect(self._on_shutting_down)
        self._worker: Any = None
        self._threads: list[threading.Thread] = []
        self._register_tasks()

    # -- what the conductor sends ------------------------------------------------------

    def _register_tasks(self) -> None:
        def apply_config(config: dict[str, Any]) -> None:
            self.apply(config)

        def resync() -> None:
            self.register(once=True)

        self.app.task(name=AgentTask.APPLY_CONFIG.value, shared=False)(apply_config)
        self.app.task(name=AgentTask.RESYNC.value, shared=False)(resync)

    @property
    def applied(self) -> str | None:
        try:
            return self._applied_file.read_text().strip() or None
        except OSError:
            return None

    def apply(self, data: dict[str, Any]) -> None:
        config = HostConfig.model_validate(data)
        if config.hostname != self.hostname:
            LOG.error("refused a configuration for %s (this is %s)", config.hostname, self.hostname)
            return
        with self._lock:
            results = apply_all(config, self.node)
            ok = all(r.ok for r in results)
            if ok:
                atomic_write(self._applied_file, f"{config.target}\n".encode(), 0o600)
        for r in results:
            (LOG.info if r.ok else LOG.error)(
                "configuration %s: %s %s%s", config.target, r.name,
                "changed" if r.changed else "unchanged", f": {r.message}" if r.message else "",
            )  # fmt: skip
        self.conductor.agent_config_applied(
            self.hostname, self.queue, config.target, [r.model_dump(mode="json") for r in results]
        )

    # -- what the agent sends ----------------------------------------------------------

    def register(self, once: bool = False) -> None:
        """Report inventory until the conductor answers, then apply its configuration."""
        delay = 1.0
        while not self.stopping.is_set():
            inventory = collect(
                self.settings.agent.inventory_root or self.settings.agent.root, SOFTWARE_VERSION
            ).model_copy(update={"hostname": self.hostname})
            try:
                answer = self.conductor.agent_register(
                    self.queue, inventory.model_dump(mode="json")
                )
            except InvalidInput as exc:
                # Refused (another host's MAC, say): say so and stop, rather than insist.
                LOG.error("registration refused: %s", exc.message)
                self.refused = exc.message
                self.stop()
                return
            except SysinvError as exc:  # no answer, or the conductor failed: try again
                if once:
                    raise
                LOG.warning("registration: %s; retrying in %.0f s", exc.message, delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, 30.0)
                continue
            LOG.info("registered as %s (host %s)", self.hostname, answer.host_uuid)
            self.registered.set()
            config = answer.config
            if config and config["target"] != self.applied:
                self.apply(config)
            else:
                self._heartbeat()  # says which target is applied, if a report was lost
            return

    def _heartbeats(self) -> None:
        interval = self.settings.agent.heartbeat_interval
        while not self.stopping.wait(interval * random.uniform(0.8, 1.2)):
            if self.registered.is_set():
                # A broker outage is logged once; the next heartbeat tries again.
                with contextlib.suppress(Unavailable):
                    self._heartbeat()

    def _heartbeat(self) -> None:
        self.conductor.agent_heartbeat(self.hostname, self.queue, self.applied)

    # -- running -------------------------------------------------------------------------

    def _make_worker(self) -> Any:
        name = self.queue
        queues = [Queue(name, Exchange(name), routing_key=name)]
        if not is_embedded(self.settings.messaging):
            queues.append(broadcast_queue(self.settings.messaging))
        self.app.conf.task_queues = [*self.app.conf.task_queues, *queues]
        # One configuration at a time, in the order sent: a solo worker, one thread.
        return make_worker(self.app, [q.name for q in queues], f"agent@{self.hostname}",
                           solo=True)  # fmt: skip

    def _start_threads(self) -> None:
        for target, name in ((self.register, "register"), (self._heartbeats, "heartbeat")):
            thread = threading.Thread(target=target, name=f"agent-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _on_shutting_down(self, **_: Any) -> None:
        self._asked_to_stop.set()

    def run(self) -> int:
        """Serve until asked to stop (SIGTERM/SIGINT, ``stop()``), and answer the exit
        status: 0, 3 when the conductor refused this agent, 1 when its worker stopped on
        its own (Celery gave it up: its log says why)."""
        LOG.info("agent %s consuming %s; root %s; commands %s", self.hostname, self.queue,
                 self.settings.agent.root,
                 "recorded" if self.settings.agent.record_commands else "run")  # fmt: skip
        preload_worker_modules()  # in case another worker of this process starts at once
        self._worker = self._make_worker()
        self._start_threads()
        try:
            if not self._asked_to_stop.is_set():
                self._worker.start()
        finally:
            self.stopping.set()
        if self.refused:
            return 3
        if not self._asked_to_stop.is_set():
            LOG.error(
                "the agent's worker stopped (exit code %s) without being asked to",
                self._worker.exitcode,
            )
            return 1
        return 0

    def start_in_thread(self) -> None:
        thread = threading.Thread(target=self.run, name=f"sysinv-agent-{self.hostname}",
                                  daemon=True)  # fmt: skip
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        self._asked_to_stop.set()
        self.stopping.set()
        current = threading.current_thread()
        deadline = time.monotonic() + STOP_TIMEOUT
        for thread in self._threads:
            # Asked again until the thread ends: a worker made after the first ask (a
            # SIGTERM right after start) is stopped by a later one.
            while thread is not current and thread.is_alive():
                if self._worker is not None:
                    self._worker.stop(in_sighandler=False)
                if time.monotonic() > deadline:
                    return
                thread.join(STOP_POLL)
