"""``sysinv-api``: serve the REST API with uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from sysinv_common.db.engine import Database
from sysinv_common.service_args import service_settings

LOG = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    settings = service_settings("sysinv-api", __doc__, argv)
    from sysinv_api.app import create_app

    db = Database(settings.database_url, settings.database.echo)
    app = create_app(settings, db)
    LOG.info("sysinv-api listening on http://%s:%d", settings.api.bind_host, settings.api.port)
    uvicorn.run(app, host=settings.api.bind_host, port=settings.api.port, log_config=None)


if __name__ == "__main__":
    main()
