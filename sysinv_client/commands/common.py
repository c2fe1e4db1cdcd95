"""What every command shares: the context it runs in and output options."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from sysinv_client.formatting import FORMATS
from sysinv_client.http import Api, CliError

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


@dataclass
class Context:
    api: Api
    out: TextIO = field(default_factory=lambda: sys.stdout)


def output_options(parser: argparse.ArgumentParser) -> None:
    """``-f/--format`` and ``-c/--column``, as OpenStack's clients have them: on every
    command that prints, with these letters meaning nothing else."""
    parser.add_argument("-f", "--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument(
        "-c", "--column", action="append", dest="columns", help="show only this column"
    )


def yes_option(parser: argparse.ArgumentParser) -> None:
    """``-y/--yes`` on a command that asks before it destroys something (see confirm)."""
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def confirm(args: argparse.Namespace, question: str) -> None:
    """Ask ``question`` on a terminal unless ``--yes``; anything but yes aborts. Without a
    terminal (a script) nothing is asked."""
    if getattr(args, "yes", False) or not sys.stdin.isatty():
        return
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise CliError("Aborted: nothing was changed")


def find_host(ctx: Context, ident: str) -> dict[str, Any]:
    """By id or uuid through the API, by hostname from the list, as StarlingX's client does."""
    if ident.isdigit() or _UUID.match(ident):
        try:
            host: dict[str, Any] = ctx.api.get(f"ihosts/{ident}")
            return host
        except CliError as exc:
            if "not found" in str(exc).lower():
                raise CliError(f"Host not found: {ident}") from None
            raise
    hosts = ctx.api.get_all("ihosts", "ihosts")
    for host in hosts:
        if host.get("hostname") == ident:
            return dict(host)
    raise CliError(f"Host not found: {ident}")


def key_values(pairs: list[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"Invalid {what}: {pair} (expected key=value)")
        out[key] = value
    return out
