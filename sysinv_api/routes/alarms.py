"""Fault management: ``/v1/alarms``, ``/v1/event_log`` (StarlingX's fm REST API) and
``/v1/alarm_subscriptions`` (webhooks that receive raises and clears).

Reads go to the database; deleting an alarm and the subscriptions' writes are the
conductor's. Every subscription's secret stays encrypted in the database: it is shown
only to an admin who asks for it (``show_secret=true``), decrypted by the conductor.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from sysinv_api.auth import identity_of
from sysinv_api.body import SysinvRoute
from sysinv_api.deps import ConductorDep, DatabaseDep
from sysinv_api.openapi import errors
from sysinv_api.params import parse_bool
from sysinv_api.schemas.fault import (
    AlarmList,
    AlarmOut,
    AlarmSummary,
    EventList,
    EventOut,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
    SubscriptionShown,
    alarm_out,
    event_out,
    subscription_out,
)
from sysinv_common.alarms import Severity
from sysinv_common.db.queries import alarms as queries
from sysinv_common.db.queries.system import get_system
from sysinv_common.errors import Forbidden

router = APIRouter(tags=["fault management"], route_class=SysinvRoute)

QField = Annotated[list[str], Query(alias="q.field", description="Filter: the field.")]
QOp = Annotated[list[str], Query(alias="q.op", description="Filter: the operator (eq).")]
QValue = Annotated[list[str], Query(alias="q.value", description="Filter: the value.")]
QType = Annotated[list[str], Query(alias="q.type", description="Ignored (sent by fm).")]
Limit = Annotated[int | None, Query(ge=1, le=100000, description="At most this many rows.")]
Flag = Annotated[str | None, Query(description="True or False.")]

READ_ERRORS = errors(400)
ONE_ERRORS = errors(404)
WRITE_ERRORS = errors(400, 404)


@router.get(
    "/v1/alarms", response_model=AlarmList, responses=READ_ERRORS, summary="List active alarms",
    description=(
        "The active alarms, newest first. Filters as `fm alarm-list --query` sends them: "
        "`q.field`, `q.op` (eq) and `q.value`, repeated per filter, on "
        f"{', '.join(queries.ALARM_FIELDS)}. Suppressed alarms only with "
        "`include_suppress=True`."
    ),
)  # fmt: skip
def list_alarms(
    db: DatabaseDep, field: QField = [], op: QOp = [], value: QValue = [],  # noqa: B006
    q_type: QType = [], include_suppress: Flag = None, limit: Limit = None,  # noqa: B006
    expand: Flag = None,
) -> dict[str, Any]:  # fmt: skip
    filters = queries.parse_filters(field, op, value, queries.ALARM_FIELDS)
    suppressed = parse_bool("include_suppress", include_suppress)
    parse_bool("expand", expand)
    with db.read_session() as s:
        return {"alarms": [alarm_out(a) for a in
                           queries.list_alarms(s, filters, suppressed, limit)]}  # fmt: skip


@router.get(
    "/v1/alarms/summary", response_model=AlarmSummary, responses=READ_ERRORS,
    summary="Count active alarms by severity",
    description="Counts of the active alarms by severity, and the system's status: "
    "critical with any critical alarm, degraded with any major or minor one, else OK.",
)  # fmt: skip
def alarm_summary(db: DatabaseDep, include_suppress: Flag = None) -> dict[str, Any]:
    suppressed = parse_bool("include_suppress", include_suppress)
    with db.read_session() as s:
        counts = queries.summary(s, suppressed)
        system_uuid = get_system(s).uuid
    status = "OK"
    if counts[Severity.MAJOR] or counts[Severity.MINOR]:
        status = "degraded"
    if counts[Severity.CRITICAL]:
        status = "critical"
    return {
        "critical": counts[Severity.CRITICAL], "major": counts[Severity.MAJOR],
        "minor": counts[Severity.MINOR], "warnings": counts[Severity.WARNING],
        "status": status, "system_uuid": system_uuid,
    }  # fmt: skip


@router.get(
    "/v1/alarms/{uuid}", response_model=AlarmOut, responses=ONE_ERRORS, summary="Show an alarm",
    description="One active alarm by its uuid.",
)  # fmt: skip
def show_alarm(uuid: str, db: DatabaseDep) -> dict[str, Any]:
    with db.read_session() as s:
        return alarm_out(queries.get_alarm(s, uuid))


@router.delete(
    "/v1/alarms/{uuid}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
    summary="Delete an alarm",
    description="Deletes an active alarm (admin); the event log records it as cleared. An "
    "alarm whose fault persists is raised again by the conductor's next look at it.",
)  # fmt: skip
def delete_alarm(uuid: str, conductor: ConductorDep) -> Response:
    conductor.alarm_delete(uuid)
    return Response(status_code=204)


@router.get(
    "/v1/event_log", response_model=EventList, responses=READ_ERRORS,
    summary="List the event log",
    description=(
        "Raises, clears and customer logs, newest first. `alarms=True`: raises and clears "
        "only; `logs=True`: customer logs only. Filters as for alarms, on "
        f"{', '.join(queries.EVENT_FIELDS)} (`start` and `end`: ISO 8601 bounds of the "
        "timestamp)."
    ),
)  # fmt: skip
def list_events(
    db: DatabaseDep, field: QField = [], op: QOp = [], value: QValue = [],  # noqa: B006
    q_type: QType = [], limit: Limit = None, alarms: Flag = None,  # noqa: B006
    logs: Flag = None, include_suppress: Flag = None, expand: Flag = None,
) -> dict[str, Any]:  # fmt: skip
    filters = queries.parse_filters(field, op, value, queries.EVENT_FIELDS)
    only_alarms, only_logs = parse_bool("alarms", alarms), parse_bool("logs", logs)
    suppressed = parse_bool("include_suppress", include_suppress)
    parse_bool("expand", expand)
    with db.read_session() as s:
        rows = queries.list_events(s, filters, only_alarms, only_logs, suppressed, limit)
        return {"event_log": [event_out(e) for e in rows]}


@router.get(
    "/v1/event_log/{uuid}", response_model=EventOut, responses=ONE_ERRORS,
    summary="Show an event", description="One row of the event log by its uuid.",
)  # fmt: skip
def show_event(uuid: str, db: DatabaseDep) -> dict[str, Any]:
    with db.read_session() as s:
        return event_out(queries.get_event(s, uuid))


@router.get(
    "/v1/alarm_subscriptions", response_model=SubscriptionList, responses=READ_ERRORS,
    summary="List alarm webhooks",
    description="The webhook subscriptions, without secrets, each with its deliveries still "
    "pending, its dead letters and its last delivery error.",
)  # fmt: skip
def list_subscriptions(db: DatabaseDep) -> dict[str, Any]:
    with db.read_session() as s:
        states = queries.delivery_states(s)
        return {"alarm_subscriptions": [subscription_out(x, states.get(x.id)) for x in
                                        queries.list_subscriptions(s)]}  # fmt: skip


@router.post(
    "/v1/alarm_subscriptions", status_code=201, response_model=SubscriptionOut,
    responses=WRITE_ERRORS, summary="Subscribe a webhook to alarms",
    description=(
        "Every raise and clear from now on is POSTed to `url` as JSON, signed with "
        "`X-Sysinv-Signature: sha256=<HMAC-SHA256 of the body under the secret>`; "
        "delivered at least once, retried with a doubling backoff, kept as a dead letter "
        "after the last attempt. The secret is stored encrypted and not answered here."
    ),
)  # fmt: skip
def add_subscription(body: SubscriptionIn, conductor: ConductorDep) -> dict[str, Any]:
    row = conductor.alarm_subscribe(body.url, body.secret)
    return {"uuid": row.uuid, "url": row.url, "created_at": row.created_at}


@router.get(
    "/v1/alarm_subscriptions/{uuid}", response_model=SubscriptionShown,
    response_model_exclude_none=True, responses=WRITE_ERRORS,
    summary="Show an alarm webhook",
    description="One subscription; its secret only with `show_secret=True`, for admins.",
)  # fmt: skip
def show_subscription(
    uuid: str, request: Request, db: DatabaseDep, conductor: ConductorDep,
    show_secret: Flag = None,
) -> dict[str, Any]:  # fmt: skip
    reveal = parse_bool("show_secret", show_secret)
    with db.read_session() as s:
        sub = queries.get_subscription(s, uuid)
        out = subscription_out(sub, queries.delivery_states(s).get(sub.id))
    if reveal:
        if not identity_of(request).is_admin:
            raise Forbidden("Forbidden: only the admin role may read a webhook's secret")
        out["secret"] = conductor.alarm_subscription_secret(uuid).secret
    return out


@router.delete(
    "/v1/alarm_subscriptions/{uuid}", status_code=204, response_class=Response,
    responses=WRITE_ERRORS, summary="Delete an alarm webhook",
    description="The webhook gets nothing more; its undelivered events go with it.",
)  # fmt: skip
def delete_subscription(uuid: str, conductor: ConductorDep) -> Response:
    conductor.alarm_unsubscribe(uuid)
    return Response(status_code=204)
