"""Host commands: list, show, add, update, delete, lock, unlock, bulk add and export."""

from __future__ import annotations

import argparse
from typing import Any

import httpx

from sysinv_client.commands.common import (
    Context,
    confirm,
    find_host,
    key_values,
    output_options,
    yes_option,
)
from sysinv_client.formatting import print_dict, print_list
from sysinv_client.http import CliError, fault_of

LIST_FIELDS = ["id", "hostname", "personality", "administrative", "operational", "availability"]

# host-add options: (flag, long name, body key), as StarlingX's client sends them. The
# console has no short flag: -c is --column on every command that prints.
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
    (None, "--console", "console"),
    ("-C", "--clock_synchronization", "clock_synchronization"),
]


def show_host(ctx: Context, host: dict[str, Any], args: argparse.Namespace) -> None:
    print_dict(ctx.out, host, args.format, args.columns)


def host_list(ctx: Context, args: argparse.Namespace) -> None:
    hosts = ctx.api.get_all("ihosts", "ihosts")
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
    hosts = [find_host(ctx, ident) for ident in args.hosts]
    names = ", ".join(h["hostname"] for h in hosts)
    confirm(args, f"Delete host(s) {names}? Their Kubernetes Nodes are deleted too.")
    for host in hosts:
        ctx.api.request("DELETE", f"ihosts/{host['uuid']}")
        ctx.out.write(f"Deleted host {host['hostname']}\n")


def host_bulk_add(ctx: Context, args: argparse.Namespace) -> None:
    """The hosts file as the ``file`` part of a form, as StarlingX's client sends it."""
    try:
        with open(args.hostsfile, "rb") as fh:
            data = fh.read()
    except IsADirectoryError:
        raise CliError(f"Error: {args.hostsfile} is a directory.") from None
    except OSError as exc:
        raise CliError(f"Error: Could not open file {args.hostsfile}: {exc.strerror}") from None
    url = f"{ctx.api.base}/ihosts/bulk_add"
    try:
        response = ctx.api.http.post(url, files={"file": ("for_upload", data)})
    except httpx.TransportError as exc:
        raise CliError(f"Cannot reach sysinv at {ctx.api.base}: {exc}") from None
    if response.status_code >= 400:
        raise CliError(fault_of(response))
    answer = response.json()
    if answer.get("success"):
        ctx.out.write(f"Success: {answer['success']}\n\n")
    if answer.get("error"):
        raise CliError(f"Error:\n{answer['error'].rstrip()}")


def host_bulk_export(ctx: Context, args: argparse.Namespace) -> None:
    content = (ctx.api.get("ihosts/bulk_export") or {}).get("content", "")
    try:
        with open(args.filename, "w", encoding="utf-8") as fh:
            fh.write(content)
    except OSError as exc:
        raise CliError(f"Cannot write to file {args.filename}: {exc.strerror}") from None
    ctx.out.write(f"Export successfully to {args.filename}\n")


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
        p.add_argument(*([short] if short else []), long, dest=key)
    p.add_argument("-l", "--location", help="location text")
    output_options(p)
    p.set_defaults(func=host_add)

    p = sub.add_parser("host-update", help="change host attributes: host-update HOST k=v ...")
    p.add_argument("host")
    p.add_argument("attributes", nargs="+", metavar="attribute=value")
    output_options(p)
    p.set_defaults(func=host_update)

    p = sub.add_parser("host-delete", help="delete locked hosts")
    p.add_argument("hosts", nargs="+", metavar="host")
    yes_option(p)
    p.set_defaults(func=host_delete)

    for action in ("lock", "unlock"):
        p = sub.add_parser(f"host-{action}", help=f"{action} a host")
        p.add_argument("host")
        # -f is --format (output_options), as on every command that prints.
        p.add_argument("--force", action="store_true", help=f"force-{action}")
        output_options(p)
        p.set_defaults(func=_action(action))

    p = sub.add_parser(
        "host-swact", help="make the other controller active (host-swact ACTIVE-CONTROLLER)"
    )
    p.add_argument("host", help="the active controller")
    p.add_argument("--force", action="store_true", help="force-swact (refused: not supported)")
    output_options(p)
    p.set_defaults(func=_action("swact"))

    p = sub.add_parser("host-bulk-add", help="add the hosts of an XML hosts file")
    p.add_argument("hostsfile", help="hosts file, as host-bulk-export writes it")
    p.set_defaults(func=host_bulk_add)

    p = sub.add_parser("host-bulk-export", help="write every host to an XML hosts file")
    p.add_argument("--filename", default="./hosts.xml", help="file to write (./hosts.xml)")
    p.set_defaults(func=host_bulk_export)
