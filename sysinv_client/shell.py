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
    storage_backends,
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
    for module in (
        system, hosts, labels, apps, helm, registry, service_parameters, storage_backends,
    ):  # fmt: skip
        module.register(sub)
    helper = sub.add_parser("help", help="list the commands, or describe one")
    helper.add_argument("topic", nargs="?", metavar="<command>", help="a command to describe")
    helper.set_defaults(commands=sub.choices)
    return parser


def _help(
    parser: argparse.ArgumentParser, topic: str | None,
    commands: dict[str, argparse.ArgumentParser],
) -> int:  # fmt: skip
    """``system help [COMMAND]``, as StarlingX's client answers it."""
    if topic is None:
        parser.print_help()
        return 0
    if topic in commands:
        commands[topic].print_help()
        return 0
    sys.stderr.write(f"'{topic}' is not a valid subcommand\n")
    return 2


def sentence(message: str) -> str:
    """An error as every command prints it: starting with a capital letter."""
    return message[:1].upper() + message[1:]


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "help"):
        sys.exit(_help(parser, getattr(args, "topic", None), getattr(args, "commands", {})))
    try:
        if args.system_url:
            url, token = args.system_url, args.os_auth_token
        else:
            session = login.login(args, args.timeout)
            url, token = session.url, session.token
        ctx = Context(Api(url, token, args.timeout))
        args.func(ctx, args)
    except CliError as exc:
        sys.stderr.write(f"{sentence(str(exc))}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
