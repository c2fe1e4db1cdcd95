"""kombu's Redis transport, with a lost connection failing as a lost connection.

When Redis goes away, Celery's consumer closes the broken kombu connection and connects
a new one. kombu closes a channel that was waiting on Redis twice: the first close fails
on the dead socket before the channel counts as closed, and the second comes after the
transport has let go of its connection details. That channel, and any message it
delivered (a task still running acknowledges it when it ends), then fail every use of the
broker with ``AttributeError`` rather than a connection error, and Celery's worker, which
retries connection errors only, logged "Unrecoverable error" and stopped for good (seen
with kombu 5.7 under load, about one Redis restart in three).

Here such a channel raises redis-py's ``ConnectionError``: kombu and Celery handle it as
the lost connection it is (the close is skipped, the late acknowledgement is logged as
failed, and the message stays on the broker for redelivery).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):  # type: ignore[misc]
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        transport = self.connection
        if transport is None or transport.client is None:
            raise RedisConnectionError("this broker connection is closed")
        params: dict[str, Any] = super()._connparams(asynchronous=asynchronous)
        return params


class Transport(kombu_redis.Transport):  # type: ignore[misc]
    Channel = Channel


def install() -> None:
    """Make ``redis://`` and ``rediss://`` broker URLs use this transport.

    kombu looks the URL's scheme up in ``TRANSPORT_ALIASES``; everything else it derives
    from the scheme (TLS for ``rediss``, the URL's parsing, the name in log lines) stays
    as it was. Done by ``broker.install()`` when ``sysinv_common.messaging.app`` is
    imported, before any connection exists."""
    for scheme in ("redis", "rediss"):
        TRANSPORT_ALIASES[scheme] = f"{__name__}:Transport"
