"""The conductor's Celery tasks, built from ``rpcapi.METHODS``: each validates its request
model, calls one flow, and answers the method's answer model.

Tasks are bound to one ``ConductorContext`` when registered, so nothing lives in
module-level state. Every answer is an envelope (``sysinv_common.messaging.client``):
domain errors travel back to the caller as data; anything else is a crash and is
logged with its traceback by Celery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery import Celery
from pydantic import ValidationError

from sysinv_common.errors import InvalidInput, SysinvError, Unavailable
from sysinv_common.messaging import rpcapi as rpc
from sysinv_common.messaging.client import error, ok
from sysinv_conductor.context import ConductorContext
from sysinv_conductor.flows import (
    alarms,
    helm_charts,
    host_config,
    hosts,
    registry_images,
    service_parameters,
    storage_backends,
)
from sysinv_conductor.flows import apps as app_flows
from sysinv_conductor.flows import labels as label_flows
from sysinv_conductor.plan import compute as plans

LOG = logging.getLogger(__name__)

Handler = Callable[[Any], rpc.Message | None]


def handlers(ctx: ConductorContext) -> dict[rpc.Method[Any, Any], Handler]:
    """One handler per method of the conductor's API; registration checks none is missing."""
    return {
        rpc.PING: lambda r: rpc.Pong(conductor_id=ctx.conductor_id),
        rpc.HOST_SYNC: lambda r: hosts.host_sync(ctx, r.host_id),
        rpc.HOST_ACTION: lambda r: hosts.host_action(ctx, r.host_id, r.action),
        rpc.HOST_DELETE: lambda r: hosts.host_delete(ctx, r.host_id),
        rpc.HOST_SWACT: lambda r: hosts.host_swact(ctx, r.host_id),
        rpc.LABELS_ASSIGN: lambda r: label_flows.assign(ctx, _host_of(r), r.labels, r.overwrite),
        rpc.LABEL_REMOVE: lambda r: label_flows.remove(ctx, r.label_uuid),
        rpc.LABEL_AUDIT: lambda r: label_flows.audit(ctx),
        rpc.APP_APPLY: lambda r: app_flows.start_apply(ctx, r.name, r.mode),
        rpc.APP_DELETE: lambda r: app_flows.delete_app(ctx, r.name, r.force),
        rpc.APP_PLAN: lambda r: plans.plan(ctx, r),
        rpc.HELM_CHART_SHOW: lambda r: helm_charts.show(ctx, r),
        rpc.HELM_CHART_UPDATE: lambda r: helm_charts.update(ctx, r),
        rpc.REGISTRY_IMAGES: lambda r: registry_images.images(ctx, r),
        rpc.REGISTRY_IMAGE_DELETE: lambda r: registry_images.delete(ctx, r.image_name_and_tag),
        rpc.REGISTRY_GARBAGE_COLLECT: lambda r: registry_images.garbage_collect(ctx),
        rpc.SERVICE_PARAMETER_ADD: lambda r: service_parameters.add(ctx, r),
        rpc.SERVICE_PARAMETER_MODIFY: lambda r: service_parameters.modify(ctx, r),
        rpc.SERVICE_PARAMETER_DELETE: lambda r: service_parameters.delete(ctx, r.uuid),
        rpc.SERVICE_PARAMETER_APPLY: lambda r: service_parameters.apply(ctx, r.service),
        rpc.STORAGE_BACKEND_ADD: lambda r: storage_backends.add(ctx, r),
        rpc.STORAGE_BACKEND_MODIFY: lambda r: storage_backends.modify(ctx, r),
        rpc.STORAGE_BACKEND_DELETE: lambda r: storage_backends.delete(ctx, r.uuid),
        rpc.STORAGE_BACKEND_HEALTH: lambda r: storage_backends.health(ctx, r.uuid),
        rpc.AGENT_REGISTER: lambda r: host_config.register(ctx, r),
        rpc.AGENT_HEARTBEAT: lambda r: host_config.heartbeat(ctx, r),
        rpc.AGENT_CONFIG_APPLIED: lambda r: host_config.config_applied(ctx, r),
        rpc.APP_UPLOAD_JOB: lambda r: app_flows.upload(ctx, r),
        rpc.APP_APPLY_JOB: lambda r: app_flows.apply(ctx, r),
        rpc.APP_REMOVE_JOB: lambda r: app_flows.remove(ctx, r),
        rpc.APP_UPDATE_JOB: lambda r: app_flows.update(ctx, r),
        rpc.ALARM_DELETE: lambda r: alarms.delete(ctx, r.uuid),
        rpc.ALARM_SUBSCRIBE: lambda r: alarms.subscribe(ctx, r.url, r.secret),
        rpc.ALARM_UNSUBSCRIBE: lambda r: alarms.unsubscribe(ctx, r.uuid),
        rpc.ALARM_SUBSCRIPTION_SECRET: lambda r: alarms.subscription_secret(ctx, r.uuid),
    }


def _host_of(request: rpc.LabelsAssign) -> int | str:
    if request.host_id is not None:
        return request.host_id
    if request.host is not None:
        return request.host
    raise InvalidInput(f"{rpc.LABELS_ASSIGN.name}: neither host_id nor host is given")


def _request(method: rpc.Method[Any, Any], payload: Any) -> rpc.Message:
    if not isinstance(payload, dict):
        raise InvalidInput(f"{method.name}: expected a {method.request.__name__} object")
    version = str(payload.get("rpc_version", ""))
    if rpc.major(version) != rpc.major(rpc.RPC_VERSION):
        raise InvalidInput(
            f"{method.name}: message of RPC version {version or 'unknown'}, this conductor "
            f"speaks {rpc.RPC_VERSION}; upgrade the sender and the conductor together"
        )
    try:
        request: rpc.Message = method.request.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"{method.name}: invalid {where}: {first['msg']}") from None
    return request


def _task(method: rpc.Method[Any, Any], handler: Handler) -> Callable[[Any], dict[str, Any]]:
    def run(payload: Any) -> dict[str, Any]:
        try:
            answer = handler(_request(method, payload))
        except SysinvError as exc:
            if not isinstance(exc, Unavailable):  # an outage is logged once, not per call
                LOG.info("%s refused: %s", method.name, exc.message)
            return error(exc)
        # Unset fields stay unset on the other side (an update answers what it changed).
        return ok(answer.model_dump(mode="json", exclude_unset=True) if answer else None)

    run.__name__ = method.name
    return run


def register_tasks(app: Celery, ctx: ConductorContext) -> None:
    table = handlers(ctx)
    missing = [m.name for m in rpc.METHODS if m not in table]
    if missing:
        raise RuntimeError(f"conductor methods without a handler: {', '.join(missing)}")
    for method in rpc.METHODS:
        # shared=False: a shared task would be bound into every Celery app created later.
        app.task(name=method.task, acks_late=True, shared=False)(_task(method, table[method]))
