"""``system show`` and ``system modify``."""

from __future__ import annotations

import argparse
from typing import Any

from sysinv_client.commands.common import Context, output_options
from sysinv_client.formatting import print_dict
from sysinv_client.http import CliError


def _system(ctx: Context) -> dict[str, Any]:
    systems = (ctx.api.get("isystems") or {}).get("isystems", [])
    if not systems:
        raise CliError("no system found")
    return dict(systems[0])


def show(ctx: Context, args: argparse.Namespace) -> None:
    print_dict(ctx.out, _system(ctx), args.format, args.columns)


def modify(ctx: Context, args: argparse.Namespace) -> None:
    changes = {
        k: getattr(args, k)
        for k in ("name", "description", "location", "contact")
        if getattr(args, k) is not None
    }
    if not changes:
        raise CliError("Nothing to modify: give --name, --description, --location or --contact")
    patch = [{"op": "replace", "path": f"/{k}", "value": v} for k, v in changes.items()]
    system = ctx.api.request("PATCH", f"isystems/{_system(ctx)['uuid']}", patch)
    print_dict(ctx.out, system, args.format, args.columns)


def register(sub: Any) -> None:
    p = sub.add_parser("show", help="show the system")
    output_options(p)
    p.set_defaults(func=show)
    p = sub.add_parser("modify", help="change the system's name, description, location, contact")
    for opt in ("name", "description", "location", "contact"):
        p.add_argument(f"--{opt}")
    output_options(p)
    p.set_defaults(func=modify)
