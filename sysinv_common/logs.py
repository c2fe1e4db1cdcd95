"""Log format shared by every sysinv process: one line, time, level, logger, message."""

import logging
import os

# Libraries whose INFO lines say nothing an operator needs.
QUIET = ("alembic.runtime.plugins", "kombu.connection", "celery.worker.consumer.mingle")


def setup_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=(level or os.environ.get("SYSINV_LOG_LEVEL", "INFO")).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
