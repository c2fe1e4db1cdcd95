"""Storage backend commands (StarlingX's): list, show, add, modify, delete.

``storage-backend-add ceph-external monitors=h1:6789,h2:6789 fsid=... keyring_path=/path``
names an external cluster; its admin keyring stays a file on the controllers.
``storage-backend-modify NAME fsid=`` clears an external backend's fsid;
``storage-backend-modify NAME`` with nothing else retries a failed backend.
"""

from __future__ import annotations

import argparse
from typing import Any

from sysinv_client.commands.common import Context, key_values, output_options
from sysinv_client.formatting import print_dict, print_list
from sysinv_client.http import CliError

LIST_FIELDS = ["uuid", "name", "backend", "state", "task", "services", "capabilities"]
SHOW_FIELDS = ["backend", "name", "state", "reason", "task", "services", "capabilities",
               "monitors", "fsid", "keyring_path", "health", "ceph", "uuid", "created_at",
               "updated_at"]  # fmt: skip
ATTRIBUTES = ("monitors", "fsid", "keyring_path")


def _attributes(pairs: list[str]) -> dict[str, Any]:
    given = key_values(pairs, "parameter")
    unknown = sorted(set(given) - set(ATTRIBUTES))
    if unknown:
        raise CliError(f"Unknown parameter(s) {', '.join(unknown)}: use {', '.join(ATTRIBUTES)}")
    out: dict[str, Any] = dict(given)
    if "monitors" in out:
        out["monitors"] = [m for m in out["monitors"].split(",") if m]
    return out


def backend_list(ctx: Context, args: argparse.Namespace) -> None:
    rows = (ctx.api.get("storage_backend") or {}).get("storage_backends", [])
    print_list(ctx.out, rows, LIST_FIELDS, LIST_FIELDS, args.format, args.columns)


def _show(ctx: Context, args: argparse.Namespace, row: dict[str, Any]) -> None:
    order = [f for f in SHOW_FIELDS if f in row]
    print_dict(ctx.out, row, getattr(args, "format", "table"), getattr(args, "columns", None),
               order=order)  # fmt: skip


def backend_show(ctx: Context, args: argparse.Namespace) -> None:
    _show(ctx, args, ctx.api.get(f"storage_backend/{args.backend_name_or_uuid}"))


def backend_add(ctx: Context, args: argparse.Namespace) -> None:
    body: dict[str, Any] = {"backend": args.backend, "name": args.name,
                            "services": args.services, "confirmed": args.confirmed,
                            **_attributes(args.attributes)}  # fmt: skip
    row = ctx.api.request("POST", "storage_backend", body)
    _show(ctx, args, row)
    if row.get("state") == "failed":
        raise CliError(f"Storage backend {row['name']} failed: {row.get('reason')}")


def backend_modify(ctx: Context, args: argparse.Namespace) -> None:
    changes = _attributes(args.attributes)
    if args.services is not None:
        changes["services"] = args.services
    # Nothing given: an empty patch, which retries a failed backend as it is (StarlingX's
    # modify with no changes); the API refuses it for a backend that did not fail.
    patch = [{"op": "replace", "path": f"/{k}", "value": v} for k, v in changes.items()]
    row = ctx.api.request("PATCH", f"storage_backend/{args.backend_name_or_uuid}", patch)
    _show(ctx, args, row)
    if row.get("state") == "failed":
        raise CliError(f"Storage backend {row['name']} failed: {row.get('reason')}")


def backend_delete(ctx: Context, args: argparse.Namespace) -> None:
    ctx.api.request("DELETE", f"storage_backend/{args.backend_name_or_uuid}")
    ctx.out.write(f"Deleted storage backend {args.backend_name_or_uuid}\n")


def register(sub: Any) -> None:
    p = sub.add_parser("storage-backend-list", help="list storage backends")
    output_options(p)
    p.set_defaults(func=backend_list)

    p = sub.add_parser("storage-backend-show", help="show a storage backend and Ceph's health")
    p.add_argument("backend_name_or_uuid", metavar="<backend name or uuid>")
    output_options(p)
    p.set_defaults(func=backend_show)

    p = sub.add_parser("storage-backend-add", help="add a storage backend")
    p.add_argument("backend", choices=["ceph", "ceph-external"])
    p.add_argument("-n", "--name", help="backend name (default ceph-store / ceph-ext-store)")
    p.add_argument("-s", "--services", help="comma-separated services")
    p.add_argument("--confirmed", action="store_true", help="StarlingX's acknowledgement")
    p.add_argument(
        "attributes", nargs="*", default=[], metavar="<parameter=value>",
        help="ceph-external: monitors=h:p[,h:p] fsid=<fsid> keyring_path=<file>",
    )  # fmt: skip
    p.set_defaults(func=backend_add)

    p = sub.add_parser("storage-backend-modify", help="modify a storage backend")
    p.add_argument("backend_name_or_uuid", metavar="<backend name or uuid>")
    p.add_argument("attributes", nargs="*", default=[], metavar="<parameter=value>")
    p.add_argument("-s", "--services", help="comma-separated services")
    p.set_defaults(func=backend_modify)

    p = sub.add_parser("storage-backend-delete", help="delete a storage backend")
    p.add_argument("backend_name_or_uuid", metavar="<backend name or uuid>")
    p.add_argument("-f", "--force", action="store_true", help="accepted as StarlingX's")
    p.set_defaults(func=backend_delete)
