"""``system``: the command line. Log in through Keystone with the usual openrc variables
(``OS_AUTH_URL``, ``OS_USERNAME``, ...), or set SYSTEM_URL and OS_AUTH_TOKEN."""

from __future__ import annotations

import argparse

from sysinv_client import cli
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


def build_parser() -> argparse.ArgumentParser:
    return cli.build_parser(
        "system", "sysinv command line (StarlingX's command names)",
        "--system-url", ("SYSTEM_URL",),
        (system, hosts, labels, apps, helm, registry, service_parameters, storage_backends),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    cli.run(build_parser(), argv)


if __name__ == "__main__":
    main()
