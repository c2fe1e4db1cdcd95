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
        raise CliError("No system found")
    return dict(systems[0])


def show(ctx: Context, args: argparse.Namespace) -> None:
    print_dict(ctx.out, _system(ctx), args.format, args.columns)


FIELDS = (
    "name", "description", "location", "contact", "timezone", "latitude", "longitude",
    "system_mode",
)  # fmt: skip


def modify(ctx: Context, args: argparse.Namespace) -> None:
    changes = {k: getattr(args, k) for k in FIELDS if getattr(args, k) is not None}
    if not changes:
        options = ", ".join(f"--{k}" for k in FIELDS)
        raise CliError(f"Nothing to modify: give one or more of {options}")
    patch = [{"op": "replace", "path": f"/{k}", "value": v} for k, v in changes.items()]
    system = ctx.api.request("PATCH", f"isystems/{_system(ctx)['uuid']}", patch)
    print_dict(ctx.out, system, args.format, args.columns)


def register(sub: Any) -> None:
    p = sub.add_parser("show", help="show the system")
    output_options(p)
    p.set_defaults(func=show)
    p = sub.add_parser("modify", help="change the system's name, description, location, ...")
    for opt in FIELDS:
        p.add_argument(f"--{opt}", help="duplex or duplex-direct" if opt == "system_mode" else None)
    output_options(p)
    p.set_defaults(func=modify)
