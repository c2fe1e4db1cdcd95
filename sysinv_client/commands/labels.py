"""Host label commands: list, assign, remove."""

from __future__ import annotations

import argparse
from typing import Any

from sysinv_client.commands.common import (
    Context,
    confirm,
    find_host,
    key_values,
    output_options,
    yes_option,
)
from sysinv_client.formatting import print_dict, print_list
from sysinv_client.http import CliError

LABEL_FIELDS = ["uuid", "host_uuid", "label_key", "label_value"]


def label_list(ctx: Context, args: argparse.Namespace) -> None:
    host = find_host(ctx, args.host)
    labels = (ctx.api.get(f"ihosts/{host['uuid']}/labels") or {}).get("labels", [])
    rows = [{"hostname": host["hostname"], **lb} for lb in labels]
    fields = ["hostname", "label_key", "label_value"]
    print_list(ctx.out, rows, fields, ["hostname", "label key", "label value"], args.format,
               args.columns, "label_key")  # fmt: skip


def label_assign(ctx: Context, args: argparse.Namespace) -> None:
    host = find_host(ctx, args.host)
    labels = key_values(args.labels, "label")
    result = (
        ctx.api.request(
            "POST", f"labels/{host['uuid']}", labels, overwrite=str(bool(args.overwrite))
        )
        or {}
    )
    for item in result.get("labels", []):
        if item.get("uuid"):
            label = ctx.api.get(f"labels/{item['uuid']}")
            print_dict(ctx.out, label, args.format, args.columns, order=LABEL_FIELDS)
    if result.get("kube_node"):
        ctx.out.write(f"Kubernetes node: {result['kube_node']}\n")


def label_remove(ctx: Context, args: argparse.Namespace) -> None:
    """Remove the labels that exist; a missing one is an error (exit 1) once the others
    are removed."""
    host = find_host(ctx, args.host)
    labels = (ctx.api.get(f"ihosts/{host['uuid']}/labels") or {}).get("labels", [])
    by_key = {lb.get("label_key"): lb for lb in labels if lb.get("host_uuid") == host["uuid"]}
    keys = list(dict.fromkeys(args.keys))
    found = [key for key in keys if key in by_key]
    missing = [key for key in keys if key not in by_key]
    if found:
        confirm(args, f"Remove label(s) {', '.join(found)} of host {host['hostname']}?")
    for key in found:
        ctx.api.request("DELETE", f"labels/{by_key[key]['uuid']}")
        ctx.out.write(f"Deleted host label {key} for host {host['hostname']}\n")
    if missing:
        raise CliError("\n".join(
            f"Host label not found: host {host['hostname']}, label key {key}" for key in missing
        ))  # fmt: skip


def register(sub: Any) -> None:
    p = sub.add_parser("host-label-list", help="list a host's labels")
    p.add_argument("host")
    output_options(p)
    p.set_defaults(func=label_list)

    p = sub.add_parser("host-label-assign", help="assign labels: host-label-assign HOST k=v ...")
    p.add_argument("host")
    p.add_argument("labels", nargs="+", metavar="key=value")
    p.add_argument("--overwrite", action="store_true", help="replace existing values")
    output_options(p)
    p.set_defaults(func=label_assign)

    p = sub.add_parser("host-label-remove", help="remove labels: host-label-remove HOST key ...")
    p.add_argument("host")
    p.add_argument("keys", nargs="+", metavar="key")
    yes_option(p)
    p.set_defaults(func=label_remove)
