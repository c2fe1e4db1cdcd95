"""``system``: the command line. Log in through Keystone with the usual openrc variables
(``OS_AUTH_URL``, ``OS_USERNAME``, ...), or set SYSTEM_URL and OS_AUTH_TOKEN."""

from __future__ import annotations

import argparse
import os
import sys

from sysinv_client import __version__, login
from sysinv_client.commands import (
    apps,
    helm,
    hosts,
    labels,
    registry,
    service_parameters,
    system,
)
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
    login.add_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for module in (system, hosts, labels, apps, helm, registry, service_parameters):
        module.register(sub)
    sub.add_parser("help", help="list the commands")
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "help"):
        parser.print_help()
        sys.exit(0)
    try:
        if args.system_url:
            url, token = args.system_url, args.os_auth_token
        else:
            session = login.login(args, args.timeout)
            url, token = session.url, session.token
        ctx = Context(Api(url, token, args.timeout))
        args.func(ctx, args)
    except CliError as exc:
        sys.stderr.write(f"{exc}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
