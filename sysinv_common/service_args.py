"""The command line every sysinv service shares: ``--config-file``, then the settings."""

from __future__ import annotations

import argparse
import os

from sysinv_common.conf import CONFIG_FILE_ENV, Settings, load_settings
from sysinv_common.logs import setup_logging


def service_settings(prog: str, description: str | None, argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config-file", help="YAML settings file (or env SYSINV_CONFIG_FILE)")
    parser.add_argument(
        "--verbose", action="store_true",
        help="log everything the libraries say (Celery's banners and per-task lines)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.config_file:
        os.environ[CONFIG_FILE_ENV] = args.config_file
    setup_logging(verbose=args.verbose)
    return load_settings()
