"""Log format shared by every sysinv process: one line, time, level, logger, message.

Quiet by default: what an operator reads is sysinv's own lines and the warnings and
errors of the libraries. ``verbose`` (``--verbose``) keeps everything the libraries say:
Celery's banners and per-task lines, its advice about running as root, kombu's notes.
"""

import logging
import os
import warnings

# Libraries whose INFO lines say nothing an operator needs.
QUIET = ("alembic.runtime.plugins", "kombu.connection", "celery.worker.consumer.mingle")
#: Celery's lines for each task: "Task ... received", "Task ... succeeded in".
PER_TASK = ("celery.worker.strategy", "celery.app.trace")
#: Celery's lines as each worker starts ("Connected to ...", "... ready."): in the
#: embedded mode, three workers of one process that the banner already describes.
WORKER_START = ("celery.worker.consumer.connection", "celery.apps.worker")

_verbose = False


class _KombuNotes(logging.Filter):
    """kombu's warning for each connection to a broker URL without a host (the embedded
    mode's ``memory://``): not a problem, it is the in-process broker."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No hostname was supplied")


def verbose() -> bool:
    """Whether the process logs everything (``--verbose``)."""
    return _verbose


def setup_logging(level: str | None = None, *, verbose: bool = False) -> None:
    global _verbose
    _verbose = verbose
    logging.basicConfig(
        level=(level or os.environ.get("SYSINV_LOG_LEVEL", "INFO")).upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if verbose:
        return
    for name in QUIET + PER_TASK:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("kombu.connection").addFilter(_KombuNotes())
    # Celery's SecurityWarning when a worker runs as root: the embedded mode and
    # containers do; the units in etc/systemd run sysinv as its own user.
    warnings.filterwarnings("ignore", message=r"You're running the worker with superuser")


def quiet_worker_start() -> None:
    """The embedded mode: no line per worker as it connects and gets ready."""
    if not _verbose:
        for name in WORKER_START:
            logging.getLogger(name).setLevel(logging.WARNING)
