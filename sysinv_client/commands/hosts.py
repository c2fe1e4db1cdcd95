"""Host commands: list, show, add, update, delete, lock, unlock."""

from __future__ import annotations

import argparse
from typing import Any

from sysinv_client.commands.common import Context, find_host, key_values, output_options
from sysinv_client.formatting import print_dict, print_list
from sysinv_client.http import CliError

LIST_FIELDS = ["id", "hostname", "personality", "administrative", "operational", "availability"]

# host-add options: (flag, long name, body key), as StarlingX's client sends them.
ADD_OPTIONS = [
    ("-n", "--hostname", "hostname"),
    ("-p", "--personality", "personality"),
    ("-s", "--subfunctions", "subfunctions"),
    ("-m", "--mgmt_mac", "mgmt_mac"),
    ("-I", "--bm_ip", "bm_ip"),
    ("-T", "--bm_type", "bm_type"),
    ("-U", "--bm_username", "bm_username"),
    ("-b", "--boot_device", "boot_device"),
    ("-r", "--rootfs_device", "rootfs_device"),
    ("-R", "--hw_settle", "hw_settle"),
    ("-o", "--install_output", "install_output"),
    ("-c", "--console", "console"),
    ("-C", "--clock_synchronization", "clock_synchronization"),
]


def show_host(ctx: Context, host: dict[str, Any], args: argparse.Namespace) -> None:
    print_dict(ctx.out, host, args.format, args.columns)


def host_list(ctx: Context, args: argparse.Namespace) -> None:
    hosts = (ctx.api.get("ihosts") or {}).get("ihosts", [])
    print_list(ctx.out, hosts, LIST_FIELDS, LIST_FIELDS, args.format, args.columns, "id")


def host_show(ctx: Context, args: argparse.Namespace) -> None:
    show_host(ctx, find_host(ctx, args.host), args)


def host_add(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {
        key: getattr(args, key) for _, _, key in ADD_OPTIONS if getattr(args, key) is not None
    }
    if args.location is not None:
        body["location"] = {"locn": args.location}
    created = ctx.api.request("POST", "ihosts", body) or {}
    if "uuid" not in created:
        raise CliError("Host not found: the server did not return the new host")
    show_host(ctx, ctx.api.get(f"ihosts/{created['uuid']}"), args)


def host_update(ctx: Context, args: argparse.Namespace) -> None:
    host = find_host(ctx, args.host)
    changes = key_values(args.attributes, "attribute")
    patch = []
    for key, value in changes.items():
        patch.append(
            {
                "op": "replace",
                "path": f"/{key}",
                "value": {"locn": value} if key == "location" else value,
            }
        )
    show_host(ctx, ctx.api.request("PATCH", f"ihosts/{host['id']}", patch), args)


def host_delete(ctx: Context, args: argparse.Namespace) -> None:
    for ident in args.hosts:
        host = find_host(ctx, ident)
        ctx.api.request("DELETE", f"ihosts/{host['uuid']}")
        ctx.out.write(f"Deleted host {host['hostname']}\n")


def _action(action: str) -> Any:
    def run(ctx: Context, args: argparse.Namespace) -> None:
        host = find_host(ctx, args.host)
        value = f"force-{action}" if args.force else action
        patch = [{"op": "replace", "path": "/action", "value": value}]
        show_host(ctx, ctx.api.request("PATCH", f"ihosts/{host['id']}", patch), args)

    return run


def register(sub: Any) -> None:
    p = sub.add_parser("host-list", help="list hosts")
    output_options(p)
    p.set_defaults(func=host_list)

    p = sub.add_parser("host-show", help="show a host (by hostname, id or uuid)")
    p.add_argument("host")
    output_options(p)
    p.set_defaults(func=host_show)

    p = sub.add_parser("host-add", help="add a host")
    for short, long, key in ADD_OPTIONS:
        p.add_argument(short, long, dest=key)
    p.add_argument("-l", "--location", help="location text")
    p.add_argument("--format", choices=("table", "json", "yaml", "value"), default="table")
    p.set_defaults(func=host_add, columns=None)

    p = sub.add_parser("host-update", help="change host attributes: host-update HOST k=v ...")
    p.add_argument("host")
    p.add_argument("attributes", nargs="+", metavar="attribute=value")
    output_options(p)
    p.set_defaults(func=host_update)

    p = sub.add_parser("host-delete", help="delete locked hosts")
    p.add_argument("hosts", nargs="+", metavar="host")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=host_delete)

    for action in ("lock", "unlock"):
        p = sub.add_parser(f"host-{action}", help=f"{action} a host")
        p.add_argument("host")
        p.add_argument("-f", "--force", action="store_true", help=f"force-{action}")
        p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
        output_options(p)
        p.set_defaults(func=_action(action))
