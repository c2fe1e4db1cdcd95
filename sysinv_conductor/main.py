"""``sysinv-conductor``: the conductor worker process."""

from __future__ import annotations

import argparse
import logging
import os

from sysinv_common.conf import CONFIG_FILE_ENV, load_settings
from sysinv_common.logs import setup_logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sysinv-conductor", description=__doc__)
    parser.add_argument("--config-file", help="YAML settings file (or env SYSINV_CONFIG_FILE)")
    args = parser.parse_args(argv)
    if args.config_file:
        os.environ[CONFIG_FILE_ENV] = args.config_file
    setup_logging()
    settings = load_settings()
    from sysinv_conductor.service import ConductorService

    logging.getLogger(__name__).info("starting sysinv-conductor")
    ConductorService(settings).run()


if __name__ == "__main__":
    main()
