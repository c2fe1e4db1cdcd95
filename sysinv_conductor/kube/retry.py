"""Riding out a controller failover: a bounded retry of Kubernetes calls that a dropped
connection interrupted.

On a duplex system the conductor reaches the API through the floating endpoint. When the
controller serving it dies, connections through it are reset mid-request, and until the
endpoint has moved a new connection may be refused. Such a call is sent again, with a short
backoff, for at most ``window`` seconds after its first failure; then it fails as before
(urllib3's ``MaxRetryError``, with the last error as its reason).

What is sent again, and why it is safe:
- a refused (or unresolvable) connection, whatever the method: nothing was sent;
- a connection reset, closed or cut during TLS or while waiting for the answer, for the
  idempotent methods only (IDEMPOTENT_METHODS). sysinv's PATCHes are idempotent: a Node's
  label patch carries the ``resourceVersion`` it was computed on (a replay after it applied
  gets 409 and is recomputed on a fresh read, see ``nodes.py``), and a cordon sets an
  absolute value. A POST (a create) is never sent again once it may have reached the server;
- for the same idempotent methods, a 500 whose message is one of etcd's own transient
  errors (ETCD_TRANSIENT: its request timed out, its leader changed, it has none): the
  controller that died held etcd's leader, and the write waited out etcd's request timeout
  (7 s with the default election timeout) while the two other members elected a new one.

Never sent again: a timeout (``kubernetes.request_timeout`` keeps its meaning: a server that
does not answer is not retried into minutes), a certificate that does not verify, and any
other answer of the API server (401, 403, 409, other 5xx): those mean what they say.
"""

from __future__ import annotations

import logging
import ssl
import time
from types import TracebackType
from typing import Any, Self

from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import (
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ResponseError,
    SSLError,
)
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

LOG = logging.getLogger(__name__)

#: Methods that may be sent twice with the effect of once (see the module docstring).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
#: The pause before the n-th retry: BACKOFF * 2**(n-1) seconds, at most BACKOFF_MAX.
BACKOFF = 0.1
BACKOFF_MAX = 1.0
#: Messages of etcd errors that end once it has a leader again (in the API's 500 Status).
ETCD_TRANSIENT = (
    "etcdserver: request timed out",
    "etcdserver: leader changed",
    "etcdserver: no leader",
)
#: TLS failures that are a dropped connection rather than a refused certificate.
_DROPPED_TLS = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError)


def dropped_connection(error: Exception) -> bool:
    """Whether ``error`` is a connection cut short (reset, closed, EOF) by the other end."""
    if isinstance(error, ProtocolError):
        return True
    if isinstance(error, SSLError):
        cause = error.args[0] if error.args else None
        return isinstance(cause, _DROPPED_TLS)
    return False


def etcd_transient(response: BaseHTTPResponse) -> bool:
    """Whether ``response`` is a 500 carrying one of etcd's transient errors. Reads the body
    into the response's cache: the caller still gets it whole when it is not retried."""
    if response.status != 500:
        return False
    try:
        body = response.data
    except Exception:  # a body that cannot be read is no evidence of anything transient
        return False
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return any(message in text for message in ETCD_TRANSIENT)


def retryable(error: Exception, method: str | None) -> bool:
    if isinstance(error, NewConnectionError):
        return True  # refused before anything was sent
    return (method or "").upper() in IDEMPOTENT_METHODS and dropped_connection(error)


class FailoverRetry(Retry):
    """urllib3's retry policy bounded by time: see the module docstring.

    The configured object is a template (``first_failure`` None); urllib3 makes a new one
    per attempt through ``new``, which carries the time of the request's first failure."""

    def __init__(
        self, *args: Any, window: float = 0.0, first_failure: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.window = window
        self.first_failure = first_failure

    def new(self, **kw: Any) -> Self:
        kw.setdefault("window", self.window)
        kw.setdefault("first_failure", self.first_failure)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Answers worth a look: 500s of idempotent calls (``increment`` reads the message)."""
        return status_code == 500 and self._is_method_retryable(method)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        now = time.monotonic()
        first = self.first_failure if self.first_failure is not None else now
        if error is None:
            if response is None or response.get_redirect_location():
                # A redirect: urllib3's own rules (none are followed).
                return super().increment(method, url, response, error, _pool, _stacktrace)
            if not etcd_transient(response) or now - first >= self.window:
                # Declined: urllib3 hands the answer, body included, to the caller.
                raise MaxRetryError(_pool, url, ResponseError(f"HTTP {response.status}"))  # type: ignore[arg-type]
            reason = "etcd had no leader"
        elif not retryable(error, method) or now - first >= self.window:
            raise MaxRetryError(_pool, url, error) from error  # type: ignore[arg-type]
        else:
            reason = f"Kubernetes connection lost ({type(error).__name__})"
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        retry.first_failure = first
        if self.first_failure is None:  # once per call, however many attempts follow
            LOG.warning("%s; sending %s %s again for up to %g s", reason, method, url, self.window)
        return retry


def failover_retry(window: float) -> Retry:
    """The policy of the conductor's Kubernetes client: within ``window`` seconds of a
    request's first failure, a dropped or refused connection is tried again (see above);
    ``window`` 0 retries nothing. Redirects and other error statuses are answers, returned
    as is."""
    return FailoverRetry(
        total=None,
        connect=None,
        read=None,
        other=None,
        status=None,
        redirect=0,
        raise_on_redirect=False,
        raise_on_status=False,
        allowed_methods=IDEMPOTENT_METHODS,
        backoff_factor=BACKOFF,
        backoff_max=BACKOFF_MAX,
        window=window,
    )
