"""What the ``system`` and ``fm`` command lines share: the connection options, the
``help`` command and how a command runs and fails."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from sysinv_client import __version__, login
from sysinv_client.commands.common import Context
from sysinv_client.http import Api, CliError


def build_parser(
    prog: str, description: str, url_option: str, url_envs: Sequence[str],
    modules: Sequence[ModuleType],
) -> argparse.ArgumentParser:  # fmt: skip
    """A command line whose commands are the ``register(sub)`` of each module.

    ``url_envs``: the variables the URL option defaults to, the first one set wins."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        url_option, dest="api_url", default=next(filter(None, map(os.environ.get, url_envs)), None),
        help="sysinv API URL, e.g. http://127.0.0.1:6385 (env "
        + ", else ".join(url_envs) + ")",
    )  # fmt: skip
    parser.add_argument(
        "--os-auth-token", default=os.environ.get("OS_AUTH_TOKEN"),
        help="token sent as X-Auth-Token (env OS_AUTH_TOKEN)",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    login.add_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for module in modules:
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


def run(parser: argparse.ArgumentParser, argv: list[str] | None) -> None:
    """Parse ``argv``, log in (or use the given URL and token) and run the command."""
    args = parser.parse_args(argv)
    if args.command in (None, "help"):
        sys.exit(_help(parser, getattr(args, "topic", None), getattr(args, "commands", {})))
    try:
        if args.api_url:
            url, token = args.api_url, args.os_auth_token
        else:
            session = login.login(args, args.timeout)
            url, token = session.url, session.token
        args.func(Context(Api(url, token, args.timeout)), args)
    except CliError as exc:
        sys.stderr.write(f"{sentence(str(exc))}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
