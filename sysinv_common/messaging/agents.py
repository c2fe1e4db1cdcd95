"""Sending to agents: each host's own queue, and the broadcast to all of them."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery

from sysinv_common.conf.messaging import MessagingSettings
from sysinv_common.messaging.app import agent_queue, broadcast_queue, is_embedded
from sysinv_common.messaging.tasks import AgentTask

LOG = logging.getLogger(__name__)


class AgentClient:
    def __init__(self, app: Celery, settings: MessagingSettings) -> None:
        self.app = app
        self.settings = settings

    def cast(self, hostname: str, task: AgentTask, **kwargs: Any) -> None:
        self.app.send_task(
            task.value, kwargs=kwargs, queue=agent_queue(self.settings, hostname),
            ignore_result=True,
        )  # fmt: skip
        LOG.debug("cast %s to agent %s", task.value, hostname)

    def broadcast(self, task: AgentTask, **kwargs: Any) -> None:
        """To every agent; only on a broker with fanout (Redis), the embedded mode's one
        local agent needs none."""
        if is_embedded(self.settings):
            return
        queue = broadcast_queue(self.settings)
        # Declared by the sender too: on Redis an undeclared exchange is not known to be a
        # fanout, and the message would land in a list no agent reads.
        self.app.send_task(
            task.value, kwargs=kwargs, queue=queue, declare=[queue.exchange], ignore_result=True
        )
