"""``sysinv-api``: serve the REST API with uvicorn."""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from sysinv_common.conf import CONFIG_FILE_ENV, load_settings
from sysinv_common.db.engine import Database
from sysinv_common.logs import setup_logging

LOG = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="sysinv-api", description=__doc__)
    parser.add_argument("--config-file", help="YAML settings file (or env SYSINV_CONFIG_FILE)")
    args = parser.parse_args(argv)
    if args.config_file:
        os.environ[CONFIG_FILE_ENV] = args.config_file
    setup_logging()
    settings = load_settings()
    from sysinv_api.app import create_app

    db = Database(settings.database_url, settings.database.echo)
    app = create_app(settings, db)
    LOG.info("sysinv-api listening on http://%s:%d", settings.api.bind_host, settings.api.port)
    uvicorn.run(app, host=settings.api.bind_host, port=settings.api.port, log_config=None)


if __name__ == "__main__":
    main()
