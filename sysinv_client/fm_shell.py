"""``fm``: StarlingX's fault management command line, served by sysinv's API. Log in as
for ``system`` (openrc variables, or FM_URL / SYSTEM_URL with OS_AUTH_TOKEN)."""

from __future__ import annotations

import argparse

from sysinv_client import cli
from sysinv_client.commands import fm


def build_parser() -> argparse.ArgumentParser:
    return cli.build_parser(
        "fm", "sysinv fault management (StarlingX's fm command names)",
        "--fm-url", ("FM_URL", "SYSTEM_URL"), (fm,),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    cli.run(build_parser(), argv)


if __name__ == "__main__":
    main()
