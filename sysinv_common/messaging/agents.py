"""Sending to agents: each host's own queue, and the broadcast to all of them."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from sysinv_common.conf.messaging import MessagingSettings
from sysinv_common.errors import BrokerUnavailable
from sysinv_common.messaging.app import agent_queue, broadcast_queue, is_embedded
from sysinv_common.messaging.broker import BROKER_ERRORS
from sysinv_common.messaging.tasks import AgentTask
from sysinv_common.reachability import Reachability

LOG = logging.getLogger(__name__)


class AgentClient:
    """``broker``: where a broker outage is recorded (the sender's ConductorClient's, so
    that a process logs each outage once)."""

    def __init__(
        self, app: Celery, settings: MessagingSettings, broker: Reachability | None = None
    ) -> None:
        self.app = app
        self.settings = settings
        self.broker = broker or Reachability("message broker")

    def _send(self, task: AgentTask, kwargs: dict[str, Any], **options: Any) -> None:
        try:
            self.app.send_task(task.value, kwargs=kwargs, ignore_result=True, **options)
        except BROKER_ERRORS as exc:
            self.broker.lost(exc)
            raise BrokerUnavailable(
                f"The message broker cannot be reached: {task.value} not sent"
            ) from None
        self.broker.seen()

    def cast(self, hostname: str, task: AgentTask, **kwargs: Any) -> None:
        self._send(task, kwargs, queue=agent_queue(self.settings, hostname))
        LOG.debug("cast %s to agent %s", task.value, hostname)

    def broadcast(self, task: AgentTask, **kwargs: Any) -> None:
        """To every agent; only on a broker with fanout (Redis), the embedded mode's one
        local agent needs none."""
        if is_embedded(self.settings):
            return
        queue = broadcast_queue(self.settings)
        # Declared by the sender too: on Redis an undeclared exchange is not known to be a
        # fanout, and the message would land in a list no agent reads.
        self._send(task, kwargs, queue=queue, declare=[queue.exchange])
