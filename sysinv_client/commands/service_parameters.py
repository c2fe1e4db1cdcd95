"""Service parameter commands (StarlingX's): list, show, add, modify, delete, apply."""

from __future__ import annotations

import argparse
from typing import Any

from sysinv_client.commands.common import Context, key_values, output_options
from sysinv_client.formatting import print_dict, print_list
from sysinv_client.http import CliError

FIELDS = ["uuid", "service", "section", "name", "value", "personality", "resource"]


def _show(ctx: Context, args: argparse.Namespace, row: dict[str, Any]) -> None:
    print_dict(ctx.out, row, getattr(args, "format", "table"), getattr(args, "columns", None),
               order=FIELDS)  # fmt: skip


def parameter_list(ctx: Context, args: argparse.Namespace) -> None:
    filters = {k: getattr(args, k) for k in ("service", "section", "name") if getattr(args, k)}
    rows = (ctx.api.get("service_parameter", **filters) or {}).get("parameters", [])
    print_list(ctx.out, rows, FIELDS, FIELDS, args.format, args.columns)


def parameter_show(ctx: Context, args: argparse.Namespace) -> None:
    _show(ctx, args, ctx.api.get(f"service_parameter/{args.uuid}"))


def parameter_add(ctx: Context, args: argparse.Namespace) -> None:
    params = key_values(args.attributes, "parameter")
    body = {"service": args.service, "section": args.section, "parameters": params,
            "personality": args.personality, "resource": args.resource}  # fmt: skip
    for row in (ctx.api.request("POST", "service_parameter", body) or {}).get("parameters", []):
        _show(ctx, args, row)


def parameter_modify(ctx: Context, args: argparse.Namespace) -> None:
    params = key_values(args.attributes, "parameter")
    for name, value in params.items():
        found = (ctx.api.get("service_parameter", service=args.service, section=args.section,
                             name=name) or {}).get("parameters", [])  # fmt: skip
        if not found:
            raise CliError(
                f"Service parameter not found: service {args.service}, section "
                f"{args.section}, name {name}"
            )
        patch = [{"op": "replace", "path": "/value", "value": value}]
        for attr in ("personality", "resource"):
            if getattr(args, attr):
                patch.append({"op": "replace", "path": f"/{attr}", "value": getattr(args, attr)})
        _show(ctx, args, ctx.api.request("PATCH", f"service_parameter/{found[0]['uuid']}", patch))


def parameter_delete(ctx: Context, args: argparse.Namespace) -> None:
    ctx.api.request("DELETE", f"service_parameter/{args.uuid}")
    ctx.out.write(f"Deleted service parameter: {args.uuid}\n")


def parameter_apply(ctx: Context, args: argparse.Namespace) -> None:
    ctx.api.request("POST", "service_parameter/apply", {"service": args.service})
    ctx.out.write(f"Applying {args.service} service parameters\n")


def register(sub: Any) -> None:
    p = sub.add_parser("service-parameter-list", help="list service parameters")
    for attr in ("service", "section", "name"):
        p.add_argument(f"--{attr}", help=f"only those of this {attr}")
    output_options(p)
    p.set_defaults(func=parameter_list)

    p = sub.add_parser("service-parameter-show", help="show a service parameter")
    p.add_argument("uuid")
    output_options(p)
    p.set_defaults(func=parameter_show)

    for verb, func in (("add", parameter_add), ("modify", parameter_modify)):
        p = sub.add_parser(f"service-parameter-{verb}", help=f"{verb} service parameters")
        p.add_argument("service")
        p.add_argument("section")
        p.add_argument("attributes", nargs="+", metavar="<name=value>")
        p.add_argument("--personality")
        p.add_argument("--resource")
        p.set_defaults(func=func)

    p = sub.add_parser("service-parameter-delete", help="delete a service parameter")
    p.add_argument("uuid")
    p.set_defaults(func=parameter_delete)

    p = sub.add_parser("service-parameter-apply", help="apply a service's parameters")
    p.add_argument("service")
    p.set_defaults(func=parameter_apply)
