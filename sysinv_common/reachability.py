"""Whether a server sysinv needs (the database, the message broker) could be reached, as
its last use found it.

An outage fails every request and every task that needs the server while it lasts. Each
process says so twice: once when it begins (its first failure) and once when it ends (the
first success after it), and never once per request; the requests themselves get a short
``Unavailable`` error (a 503 with Retry-After from the API) instead of a traceback.
"""

from __future__ import annotations

import logging
import threading
import time

LOG = logging.getLogger(__name__)

#: At most this much of an error's text goes into the log line.
MAX_REASON = 300


def reason(error: BaseException) -> str:
    """``error`` in one line: its class and text. A SQLAlchemy error is described by the
    driver's error it wraps, whose text holds no SQL statement or parameters."""
    cause = getattr(error, "orig", None)
    shown = cause if isinstance(cause, BaseException) else error
    text = " ".join(str(shown).split())
    if len(text) > MAX_REASON:
        text = text[: MAX_REASON - 3] + "..."
    return f"{type(shown).__name__}: {text}" if text else type(shown).__name__


class Reachability:
    """One server's state in this process: reachable until ``lost``, again once ``seen``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._down_since: float | None = None

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def lost(self, error: BaseException) -> None:
        """A use of the server failed because it could not be reached."""
        with self._lock:
            if self._down_since is not None:
                return
            self._down_since = time.monotonic()
        LOG.error(
            "%s unavailable (%s); what needs it is refused until it is back",
            self.name,
            reason(error),
        )

    def seen(self) -> None:
        """A use of the server succeeded."""
        if self._down_since is None:  # the common case, without the lock
            return
        with self._lock:
            since, self._down_since = self._down_since, None
        if since is not None:
            LOG.info("%s is back after %.1f s", self.name, time.monotonic() - since)
