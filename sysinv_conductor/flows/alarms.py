"""Fault management on the conductor: where each fault is decided, the alarm is raised or
cleared (``sysinv_common.states.alarm`` writes it), and the webhook deliveries go out.

- hosts: :func:`audit_hosts` (the host audit) raises 200.004 for a host whose agent went
  silent and 250.001 for one behind its configuration target past ``fm.config_grace``,
  and clears both once that is over; a host coming back or applying its configuration
  clears them at once (:func:`host_back`, :func:`config_current`);
- applications: :func:`app_started` and :func:`app_finished`, called by the leased
  operation when it starts and when its outcome is recorded;
- drift: :func:`app_drift`, called by the drift audit with what it found on each app;
- Kubernetes: :func:`node_sync`, called by the label audit for every Node it could or
  could not bring in line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from sysinv_common import alarms
from sysinv_common.alarms import Fault
from sysinv_common.db.base import utcnow
from sysinv_common.db.models import AlarmDelivery, AlarmSubscription, App, Host
from sysinv_common.errors import InvalidInput, NotFound
from sysinv_common.messaging.rpcapi import Empty, SubscriptionRow, SubscriptionSecret
from sysinv_common.states import alarm as states
from sysinv_common.states.app import AppStatus
from sysinv_common.states.host import Availability
from sysinv_conductor.context import ConductorContext

LOG = logging.getLogger(__name__)
#: How long a delivered webhook event is kept (dead letters are kept until deleted).
DELIVERED_KEPT = timedelta(days=1)

#: The HMAC-SHA256 of the body under the subscription's secret, as ``sha256=<hex>``.
SIGNATURE_HEADER = "X-Sysinv-Signature"
EVENT_HEADER = "X-Sysinv-Event"
DELIVERY_HEADER = "X-Sysinv-Delivery"


def raise_in(s: Session, fault: Fault) -> bool:
    """Raise (or update) ``fault`` in the caller's transaction; True when that was an
    event (new or changed)."""
    alarm = states.raise_alarm(s, fault)
    if alarm is not None:
        LOG.warning("alarm %s raised for %s: %s", fault.alarm_id, fault.entity_instance_id,
                    fault.reason_text)  # fmt: skip
    return alarm is not None


def clear_in(s: Session, alarm_ids: Iterable[str], entity_instance_id: str) -> int:
    """Clear those of ``alarm_ids`` raised for the entity, in the caller's transaction."""
    cleared = 0
    for alarm_id in alarm_ids:
        if states.clear_alarm(s, alarm_id, entity_instance_id) is not None:
            LOG.info("alarm %s cleared for %s", alarm_id, entity_instance_id)
            cleared += 1
    return cleared


def raise_fault(ctx: ConductorContext, fault: Fault) -> bool:
    with ctx.db.session() as s:
        return raise_in(s, fault)


def clear_fault(ctx: ConductorContext, alarm_ids: Iterable[str], entity_instance_id: str) -> int:
    with ctx.db.session() as s:
        return clear_in(s, alarm_ids, entity_instance_id)


# -- hosts ---------------------------------------------------------------------------------


def audit_hosts(ctx: ConductorContext, now: datetime | None = None) -> None:
    """Every host's 200.004 and 250.001 as its row says now; then the event log's bound.

    One transaction of a few statements whatever the number of hosts: the hosts and the
    raised alarms are read once each, and only what changes is written (an alarm raised
    as it already is writes nothing; only raised alarms are cleared)."""
    now = now or utcnow()
    grace = timedelta(seconds=ctx.settings.fm.config_grace)
    timeout = ctx.settings.agent.offline_timeout
    wanted: dict[tuple[str, str], Fault] = {}
    keep: set[tuple[str, str]] = set()  # within its grace: left as it is, raised or not
    columns = (
        Host.hostname,
        Host.availability,
        Host.last_seen_at,
        Host.config_target,
        Host.config_applied,
        Host.config_target_at,
        Host.created_at,
        Host.config_error,
    )
    with ctx.db.session() as s:
        hosts = s.execute(select(*columns)).all()
        for hostname, availability, last_seen, target, applied, target_at, created, error in hosts:
            # Only a host whose agent reported once can go silent.
            if availability == Availability.OFFLINE and last_seen is not None:
                fault = alarms.host_offline(hostname, timeout)
                wanted[(fault.alarm_id, fault.entity_instance_id)] = fault
            since = target_at or created
            behind = bool(target) and applied != target
            if behind and target and _aware(since) + grace <= now:
                fault = alarms.config_out_of_date(hostname, target, error)
                wanted[(fault.alarm_id, fault.entity_instance_id)] = fault
            elif behind:
                keep.add((alarms.CONFIG_OUT_OF_DATE, alarms.host_entity(hostname)))
        active = states.raised_as(
            s,
            (alarms.HOST_FAILED, alarms.CONFIG_OUT_OF_DATE, alarms.KUBE_NODE_OUT_OF_SYNC),
            alarms.ENTITY_HOST,
        )
        # Alarms of hosts deleted meanwhile go too (850.100 included).
        entities = {alarms.host_entity(h[0]) for h in hosts}
        orphans = {
            key
            for key in active
            if key[0] == alarms.KUBE_NODE_OUT_OF_SYNC and key[1] not in entities
        }
        for key, fault in wanted.items():
            if active.get(key) != states.content(fault):
                raise_in(s, fault)
        ours = {key for key in active if key[0] != alarms.KUBE_NODE_OUT_OF_SYNC}
        for alarm_id, entity in sorted((ours - set(wanted) - keep) | orphans):
            clear_in(s, [alarm_id], entity)
        states.trim_event_log(s, ctx.settings.fm.event_log_max_rows)
        states.forget_delivered(s, now - DELIVERED_KEPT)


def _aware(when: datetime) -> datetime:
    """SQLite answers naive datetimes (UTC): comparable with ``now`` once marked so."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def customer_log(s: Session, fault: Fault) -> None:
    """An event for the log alone (``fm event-list --logs``)."""
    states.log_event(s, fault)
    LOG.info("event %s logged for %s", fault.alarm_id, fault.entity_instance_id)


# Called in the transaction that records the agent's report.


def host_back(s: Session, hostname: str) -> None:
    """The host's agent reported: it is no longer failed."""
    clear_in(s, [alarms.HOST_FAILED], alarms.host_entity(hostname))


def config_current(s: Session, hostname: str) -> None:
    """The host applied its configuration target."""
    clear_in(s, [alarms.CONFIG_OUT_OF_DATE], alarms.host_entity(hostname))


# -- Kubernetes ----------------------------------------------------------------------------


def node_sync(ctx: ConductorContext, in_sync: Iterable[str], failed: dict[str, str]) -> None:
    """One label audit's verdict: the Nodes of ``in_sync`` are in line, those of
    ``failed`` could not be brought in line (Kubernetes' reason by hostname). One
    transaction; only the alarms that change are written."""
    with ctx.db.session() as s:
        active = states.raised_as(s, (alarms.KUBE_NODE_OUT_OF_SYNC,), alarms.ENTITY_HOST)
        for hostname, error in sorted(failed.items()):
            fault = alarms.node_out_of_sync(hostname, error)
            if active.get((fault.alarm_id, fault.entity_instance_id)) != states.content(fault):
                raise_in(s, fault)
        for hostname in sorted(in_sync):
            entity = alarms.host_entity(hostname)
            if (alarms.KUBE_NODE_OUT_OF_SYNC, entity) in active:
                clear_in(s, [alarms.KUBE_NODE_OUT_OF_SYNC], entity)


# -- applications --------------------------------------------------------------------------


# Each is called in the transaction that records what it follows (the operation's claim,
# its outcome, its recovery, the app's deletion): the alarm and the app change together.


def app_started(s: Session, operation: str, name: str) -> None:
    if operation in alarms.APP_RUNNING:
        raise_in(s, alarms.app_running(operation, name))


def app_finished(s: Session, operation: str, name: str, ok: bool, reason: str) -> None:
    """The operation's outcome is recorded: its in-progress alarm goes; a failure raises
    the operation's failed alarm, a success clears the failures it repaired."""
    entity = alarms.app_entity(name)
    clear_in(s, [alarms.APP_APPLYING, alarms.APP_UPDATING], entity)
    if not ok:
        raise_in(s, alarms.app_failed(operation, name, reason))
    elif operation == "upload":
        clear_in(s, [alarms.APP_UPLOAD_FAILED], entity)
    else:
        clear_in(s, [alarms.APP_APPLY_FAILED, alarms.APP_REMOVE_FAILED], entity)


_FAILED_STATUS = {
    AppStatus.UPLOAD_FAILED: "upload",
    AppStatus.APPLY_FAILED: "apply",
    AppStatus.REMOVE_FAILED: "remove",
    AppStatus.UPDATE_FAILED: "update",
}


def app_recovered(s: Session, app_ids: Iterable[int]) -> None:
    """Operations a dead conductor left were failed by the audit: their alarms."""
    # As the recovery's UPDATE left them (not as the session may have loaded them before).
    query = select(App).where(App.id.in_(list(app_ids)))
    rows = [(a.name, a.status, a.progress or "") for a in
            s.scalars(query.execution_options(populate_existing=True)).all()]  # fmt: skip
    for name, status, progress in rows:
        operation = _FAILED_STATUS.get(AppStatus(status))
        if operation is not None:
            app_finished(s, operation, name, False, progress)


def app_deleted(s: Session, name: str) -> None:
    clear_in(s, [alarms.APP_UPLOAD_FAILED, alarms.APP_APPLY_FAILED, alarms.APP_REMOVE_FAILED,
                 alarms.APP_APPLYING, alarms.APP_UPDATING, alarms.APP_REAPPLY_PENDING,
                 alarms.APP_DRIFT],
             alarms.app_entity(name))  # fmt: skip


def app_drift(s: Session, name: str, objects: list[str]) -> None:
    """The drift audit's finding on an app: 750.100 while ``objects`` drifted, cleared
    when none has (or the app is no longer applied)."""
    if objects:
        raise_in(s, alarms.app_drift(name, objects))
    else:
        clear_in(s, [alarms.APP_DRIFT], alarms.app_entity(name))


# -- the operator's calls ------------------------------------------------------------------


def delete(ctx: ConductorContext, uuid: str) -> Empty:
    with ctx.db.session() as s:
        gone = states.delete_alarm(s, uuid)
    LOG.info("alarm %s (%s, %s) deleted by request", uuid, gone["alarm_id"],
             gone["entity_instance_id"])  # fmt: skip
    return Empty()


def subscribe(ctx: ConductorContext, url: str, secret: str) -> SubscriptionRow:
    check_url(url)
    if not secret or len(secret) > MAX_SECRET:
        raise InvalidInput(
            f"Invalid secret: a webhook subscription needs a secret of 1 to {MAX_SECRET} characters"
        )
    token = ctx.secrets.fernet.encrypt(secret.encode()).decode()
    with ctx.db.session() as s:
        sub = states.add_subscription(s, url, token)
        row = SubscriptionRow(uuid=sub.uuid, url=sub.url, created_at=sub.created_at.isoformat())
    LOG.info("alarm webhook %s subscribed (%s)", row.uuid, url)
    return row


MAX_URL = 2048
MAX_SECRET = 1024


def check_url(url: str) -> None:
    """An absolute http(s) URL with a host, at most MAX_URL characters, no blanks or
    control characters."""
    try:
        plain = url and len(url) <= MAX_URL and not any(c.isspace() or not c.isprintable()
                                                         for c in url)  # fmt: skip
        parsed = httpx.URL(url) if plain else None
    except (httpx.InvalidURL, ValueError, TypeError):
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        shown = url if len(url) <= 200 else url[:200] + "..."
        raise InvalidInput(
            f"Invalid url: '{shown}' (expected http(s)://host[:port]/path, at most "
            f"{MAX_URL} characters)"
        )


def unsubscribe(ctx: ConductorContext, uuid: str) -> Empty:
    with ctx.db.session() as s:
        states.delete_subscription(s, uuid)
    LOG.info("alarm webhook %s unsubscribed", uuid)
    return Empty()


def subscription_secret(ctx: ConductorContext, uuid: str) -> SubscriptionSecret:
    with ctx.db.session() as s:
        sub = s.scalars(select(AlarmSubscription).where(AlarmSubscription.uuid == uuid)).first()
        if sub is None:
            raise NotFound(f"Alarm subscription not found: {uuid}")
        token = sub.secret_ciphertext
    return SubscriptionSecret(secret=ctx.secrets.fernet.decrypt(token.encode()).decode())


# -- webhook deliveries --------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver_due(ctx: ConductorContext, now: datetime | None = None) -> int:
    """Send the deliveries whose time came; answers how many were delivered."""
    fm = ctx.settings.fm
    now = now or utcnow()
    hold = timedelta(seconds=fm.webhook_timeout * 2 + 5)
    with ctx.db.session() as s:
        taken = states.claim_due(s, now, hold)
        work = []
        for delivery_id in taken:
            row = s.get(AlarmDelivery, delivery_id)
            sub = s.get(AlarmSubscription, row.subscription_id) if row is not None else None
            if row is not None and sub is not None:
                work.append((delivery_id, sub.uuid, sub.url, sub.secret_ciphertext, row.payload))
    done = 0
    for delivery_id, sub_uuid, url, token, payload in work:
        body = json.dumps(payload, sort_keys=True).encode()
        try:
            secret = ctx.secrets.fernet.decrypt(token.encode()).decode()
            response = httpx.post(
                url, content=body, timeout=fm.webhook_timeout,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body),
                         EVENT_HEADER: str(payload.get("event")),
                         DELIVERY_HEADER: str(delivery_id)},
            )  # fmt: skip
            if response.status_code >= 300:
                raise RuntimeError(f"HTTP {response.status_code}")
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            with ctx.db.session() as s:
                status = states.attempt_failed(s, delivery_id, error, utcnow(),
                                               fm.webhook_attempts, fm.webhook_backoff)  # fmt: skip
            if status == states.DEAD:
                LOG.error("alarm webhook %s: delivery %s abandoned after %d attempts: %s",
                          sub_uuid, delivery_id, fm.webhook_attempts, error)  # fmt: skip
            else:
                LOG.warning("alarm webhook %s: delivery %s failed, will retry: %s", sub_uuid,
                            delivery_id, error)  # fmt: skip
            continue
        with ctx.db.session() as s:
            states.delivered(s, delivery_id, utcnow())
        done += 1
    return done
