"""The conductor's Celery tasks: each only unpacks its arguments and calls a flow.

Tasks are bound to one ``ConductorContext`` when registered, so nothing lives in
module-level state. Every answer is an envelope (``sysinv_common.messaging.client``):
domain errors travel back to the caller as data; anything else is a crash and is
logged with its traceback by Celery.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from celery import Celery

from sysinv_common.errors import SysinvError
from sysinv_common.messaging.client import error, ok
from sysinv_common.messaging.tasks import ConductorTask
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import apps as app_flows
from sysinv_conductor.flows import helm_charts, host_config, hosts
from sysinv_conductor.flows import labels as label_flows

LOG = logging.getLogger(__name__)


def _envelope(fn: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    def run(**kwargs: Any) -> dict[str, Any]:
        try:
            return ok(fn(**kwargs))
        except SysinvError as exc:
            LOG.info("%s refused: %s", fn.__name__, exc.message)
            return error(exc)

    run.__name__ = fn.__name__
    return run


def register_tasks(app: Celery, ctx: ConductorContext) -> None:
    handlers: dict[ConductorTask, Callable[..., Any]] = {
        ConductorTask.PING: lambda: {"conductor_id": ctx.conductor_id},
        ConductorTask.HOST_SYNC: lambda host_id: hosts.host_sync(ctx, host_id),
        ConductorTask.HOST_ACTION: lambda host_id, action: hosts.host_action(ctx, host_id, action),
        ConductorTask.HOST_DELETE: lambda host_id: hosts.host_delete(ctx, host_id),
        ConductorTask.LABELS_ASSIGN: lambda host_id, labels, overwrite: label_flows.assign(
            ctx, host_id, labels, overwrite
        ),
        ConductorTask.LABEL_REMOVE: lambda label_uuid: label_flows.remove(ctx, label_uuid),
        ConductorTask.LABEL_AUDIT: lambda: [dataclasses.asdict(d) for d in label_flows.audit(ctx)],
        ConductorTask.APP_UPLOAD: lambda app_id, token: _background(
            ctx, app_flows.upload, app_id, token
        ),
        ConductorTask.APP_APPLY: lambda app_id, token: _background(
            ctx, app_flows.apply, app_id, token
        ),
        ConductorTask.APP_REMOVE: lambda app_id, token: _background(
            ctx, app_flows.remove, app_id, token
        ),
        ConductorTask.APP_UPDATE: lambda app_id, token: _background(
            ctx, app_flows.update, app_id, token
        ),
        ConductorTask.APP_DELETE: lambda app_id, expected_status: app_flows.delete_app(
            ctx, app_id, expected_status
        ),
        ConductorTask.APP_APPLY_CHECK: lambda app_name: helm_charts.apply_check(ctx, app_name),
        ConductorTask.HELM_CHART_SHOW: lambda app_name, chart, namespace, show_secrets: (
            helm_charts.show(ctx, app_name, chart, namespace, show_secrets)
        ),
        ConductorTask.HELM_CHART_UPDATE: lambda **kw: helm_charts.update(ctx, **kw),
        ConductorTask.AGENT_REGISTER: lambda queue, inventory: host_config.register(
            ctx, queue, inventory
        ),
        ConductorTask.AGENT_HEARTBEAT: lambda **kw: host_config.heartbeat(ctx, **kw),
        ConductorTask.AGENT_CONFIG_APPLIED: lambda **kw: host_config.config_applied(ctx, **kw),
    }
    for name, fn in handlers.items():
        fn.__name__ = name.value.rsplit(".", 1)[-1]
        # shared=False: a shared task would be bound into every Celery app created later.
        app.task(name=name.value, acks_late=True, shared=False)(_envelope(fn))


def _background(
    ctx: ConductorContext,
    flow: Callable[[ConductorContext, int, str], None],
    app_id: int,
    token: str,
) -> None:
    def run() -> None:
        try:
            flow(ctx, app_id, token)
        except Exception:
            LOG.exception("%s of app %s failed outside its lease", flow.__name__, app_id)

    ctx.background.submit(run)
