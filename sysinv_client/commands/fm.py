"""``fm`` commands: alarms, the event log and alarm webhooks, with StarlingX's columns."""

from __future__ import annotations

import argparse
import os
import re
from typing import Any

from sysinv_client.commands.common import Context, output_options
from sysinv_client.formatting import print_dict, print_list
from sysinv_client.http import CliError

ALARM_FIELDS = ["uuid", "alarm_id", "alarm_state", "entity_type_id", "entity_instance_id",
                "timestamp", "severity", "reason_text", "alarm_type", "probable_cause",
                "proposed_repair_action", "service_affecting", "suppression",
                "suppression_status", "mgmt_affecting", "degrade_affecting"]  # fmt: skip
EVENT_FIELDS = ["uuid", "event_log_id", "state", "entity_type_id", "entity_instance_id",
                "timestamp", "severity", "reason_text", "event_log_type", "probable_cause",
                "proposed_repair_action", "service_affecting", "suppression",
                "suppression_status"]  # fmt: skip
SUBSCRIPTION_FIELDS = ["uuid", "url", "created_at", "pending", "dead", "last_error"]


_QUERY = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(<=|>=|!=|=|<|>)(.*)$")
_OPS = {"=": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_TYPES = ("string", "integer", "float", "boolean", "datetime")


def parse_query(text: str | None) -> dict[str, list[str]]:
    """``key[op][type::]value;...`` as the fm client's ``--query``, as q.field, q.op,
    q.value and q.type lists (the server answers which operators it takes)."""
    fields: list[str] = []
    ops: list[str] = []
    values: list[str] = []
    types: list[str] = []
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        match = _QUERY.match(part)
        if match is None:
            raise CliError(f"Invalid query: '{part}' (expected key=value[;key=value...])")
        key, op, value = match.groups()
        kind, sep, rest = value.partition("::")
        if sep and kind.strip() in _TYPES:
            value = rest
        else:
            kind = ""
        fields.append(key)
        ops.append(_OPS[op])
        values.append(value.strip())
        types.append(kind.strip())
    if not fields:
        return {}
    return {"q.field": fields, "q.op": ops, "q.value": values, "q.type": types}


def _mark_suppressed(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """A suppressed alarm's or event's id as ``S(<id>)``, as fm shows it."""
    return [
        {**r, key: f"S({r.get(key)})"} if r.get("suppression_status") == "suppressed" else r
        for r in rows
    ]


def alarm_list(ctx: Context, args: argparse.Namespace) -> None:
    params: dict[str, Any] = parse_query(args.query)
    if args.include_suppress:
        params["include_suppress"] = "True"
    alarms = (ctx.api.get("alarms", **params) or {}).get("alarms", [])
    fields = ["uuid", "alarm_id", "reason_text", "entity_instance_id", "severity", "timestamp"]
    headers = ["UUID", "Alarm ID", "Reason Text", "Entity ID", "Severity", "Time Stamp"]
    if args.mgmt_affecting:
        fields.append("mgmt_affecting")
        headers.append("Management Affecting")
    if args.degrade_affecting:
        fields.append("degrade_affecting")
        headers.append("Degrade Affecting")
    if not args.uuid:
        fields, headers = fields[1:], headers[1:]
    rows = sorted(alarms, key=lambda a: str(a.get("timestamp")), reverse=True)
    if args.format == "table":
        rows = _mark_suppressed(rows, "alarm_id")
    print_list(ctx.out, rows, fields, headers, args.format, args.columns)


def alarm_show(ctx: Context, args: argparse.Namespace) -> None:
    alarm = ctx.api.get(f"alarms/{args.alarm_uuid}")
    print_dict(ctx.out, alarm, args.format, args.columns, order=ALARM_FIELDS)


def alarm_delete(ctx: Context, args: argparse.Namespace) -> None:
    for uuid in args.alarm_uuid:
        ctx.api.request("DELETE", f"alarms/{uuid}")


def alarm_summary(ctx: Context, args: argparse.Namespace) -> None:
    params = {"include_suppress": "True"} if args.include_suppress else {}
    summary = ctx.api.get("alarms/summary", **params) or {}
    fields = ["critical", "major", "minor", "warnings"]
    headers = ["Critical Alarms", "Major Alarms", "Minor Alarms", "Warnings"]
    if args.uuid:
        fields.insert(0, "system_uuid")
        headers.insert(0, "System UUID")
    print_list(ctx.out, [summary], fields, headers, args.format, args.columns)


def event_list(ctx: Context, args: argparse.Namespace) -> None:
    params: dict[str, Any] = parse_query(args.query)
    if args.limit is not None:
        params["limit"] = args.limit
    if args.alarms and not args.logs:
        params["alarms"] = "True"
    if args.logs and not args.alarms:
        params["logs"] = "True"
    if args.include_suppress:
        params["include_suppress"] = "True"
    events = (ctx.api.get("event_log", **params) or {}).get("event_log", [])
    fields = ["uuid", "timestamp", "state", "event_log_id", "reason_text", "entity_instance_id",
              "severity"]  # fmt: skip
    headers = ["UUID", "Time Stamp", "State", "Event Log ID", "Reason Text",
               "Entity Instance ID", "Severity"]  # fmt: skip
    if not args.uuid:
        fields, headers = fields[1:], headers[1:]
    if args.format == "table":
        events = _mark_suppressed(events, "event_log_id")
    print_list(ctx.out, events, fields, headers, args.format, args.columns)


def event_show(ctx: Context, args: argparse.Namespace) -> None:
    event = ctx.api.get(f"event_log/{args.event_uuid}")
    print_dict(ctx.out, event, args.format, args.columns, order=EVENT_FIELDS)


def subscription_add(ctx: Context, args: argparse.Namespace) -> None:
    secret = args.secret or os.environ.get("FM_WEBHOOK_SECRET")
    if not secret:
        raise CliError("A secret is needed: --secret SECRET or env FM_WEBHOOK_SECRET")
    sub = ctx.api.request("POST", "alarm_subscriptions", {"url": args.url, "secret": secret})
    print_dict(ctx.out, sub, args.format, args.columns, order=SUBSCRIPTION_FIELDS)


def subscription_list(ctx: Context, args: argparse.Namespace) -> None:
    subs = (ctx.api.get("alarm_subscriptions") or {}).get("alarm_subscriptions", [])
    print_list(ctx.out, subs, SUBSCRIPTION_FIELDS[:5],
               ["UUID", "URL", "Created At", "Pending", "Dead"], args.format, args.columns,
               "created_at")  # fmt: skip


def subscription_show(ctx: Context, args: argparse.Namespace) -> None:
    params = {"show_secret": "True"} if args.show_secret else {}
    sub = ctx.api.get(f"alarm_subscriptions/{args.subscription_uuid}", **params)
    order = SUBSCRIPTION_FIELDS + (["secret"] if args.show_secret else [])
    print_dict(ctx.out, sub, args.format, args.columns, order=order)


def subscription_delete(ctx: Context, args: argparse.Namespace) -> None:
    ctx.api.request("DELETE", f"alarm_subscriptions/{args.subscription_uuid}")
    ctx.out.write(f"Deleted alarm subscription {args.subscription_uuid}\n")


def register(sub: Any) -> None:
    p = sub.add_parser("alarm-list", help="list the active alarms")
    p.add_argument("-q", "--query", help="key=value;key=value... (alarm_id, severity, "
                   "entity_instance_id, entity_type_id, ...)")  # fmt: skip
    p.add_argument("--uuid", action="store_true", help="include the UUID column")
    p.add_argument("--include_suppress", action="store_true", help="include suppressed alarms")
    p.add_argument("--mgmt_affecting", action="store_true", help="include management affecting")
    p.add_argument("--degrade_affecting", action="store_true", help="include degrade affecting")
    output_options(p)
    p.set_defaults(func=alarm_list)

    p = sub.add_parser("alarm-show", help="show an active alarm")
    p.add_argument("alarm_uuid")
    output_options(p)
    p.set_defaults(func=alarm_show)

    p = sub.add_parser("alarm-delete", help="delete active alarms")
    p.add_argument("alarm_uuid", nargs="+")
    p.set_defaults(func=alarm_delete)

    p = sub.add_parser("alarm-summary", help="count the active alarms by severity")
    p.add_argument("--uuid", action="store_true", help="include the system's UUID")
    p.add_argument("--include_suppress", action="store_true", help="include suppressed alarms")
    output_options(p)
    p.set_defaults(func=alarm_summary)

    p = sub.add_parser("event-list", help="list the event log, newest first")
    p.add_argument("-q", "--query", help="key=value;key=value... (event_log_id, severity, "
                   "entity_instance_id, start, end, ...)")  # fmt: skip
    p.add_argument("-l", "--limit", type=int, help="at most this many events")
    p.add_argument("--alarms", action="store_true", help="raises and clears only")
    p.add_argument("--logs", action="store_true", help="customer logs only")
    p.add_argument("--uuid", action="store_true", help="include the UUID column")
    p.add_argument("--include_suppress", action="store_true", help="include suppressed events")
    p.add_argument("--nopaging", action="store_true", help="accepted; output is never paged")
    output_options(p)
    p.set_defaults(func=event_list)

    p = sub.add_parser("event-show", help="show an event of the log")
    p.add_argument("event_uuid")
    output_options(p)
    p.set_defaults(func=event_show)

    p = sub.add_parser("alarm-subscription-add", help="send raises and clears to a webhook")
    p.add_argument("url")
    p.add_argument("--secret", help="HMAC-SHA256 key of the signature (env FM_WEBHOOK_SECRET)")
    output_options(p)
    p.set_defaults(func=subscription_add)

    p = sub.add_parser("alarm-subscription-list", help="list the alarm webhooks")
    output_options(p)
    p.set_defaults(func=subscription_list)

    p = sub.add_parser("alarm-subscription-show", help="show an alarm webhook")
    p.add_argument("subscription_uuid")
    p.add_argument("--show-secret", action="store_true", help="its secret too (admin only)")
    output_options(p)
    p.set_defaults(func=subscription_show)

    p = sub.add_parser("alarm-subscription-delete", help="delete an alarm webhook")
    p.add_argument("subscription_uuid")
    p.set_defaults(func=subscription_delete)
