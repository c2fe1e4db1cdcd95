"""``system``: the command line. Set SYSTEM_URL (or --system-url) to sysinv's API."""

from __future__ import annotations

import argparse
import os
import sys

from sysinv_client import __version__
from sysinv_client.commands import apps, helm, hosts, labels, system
from sysinv_client.commands.common import Context
from sysinv_client.http import Api, CliError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="system", description="sysinv command line (StarlingX's command names)"
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--system-url", default=os.environ.get("SYSTEM_URL"),
        help="sysinv API URL, e.g. http://127.0.0.1:6385 (env SYSTEM_URL)",
    )  # fmt: skip
    parser.add_argument(
        "--os-auth-token", default=os.environ.get("OS_AUTH_TOKEN"),
        help="token sent as X-Auth-Token (env OS_AUTH_TOKEN)",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for module in (system, hosts, labels, apps, helm):
        module.register(sub)
    sub.add_parser("help", help="list the commands")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "help"):
        parser.print_help()
        sys.exit(0)
    if not args.system_url:
        sys.stderr.write("Set SYSTEM_URL (or --system-url) to sysinv's API, e.g. "
                         "http://127.0.0.1:6385\n")  # fmt: skip
        sys.exit(1)
    try:
        ctx = Context(Api(args.system_url, args.os_auth_token, args.timeout))
        args.func(ctx, args)
    except CliError as exc:
        sys.stderr.write(f"{exc}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
