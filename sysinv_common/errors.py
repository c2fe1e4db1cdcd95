"""Domain errors shared by the API, the conductor and the agent.

They carry no HTTP status: ``sysinv_api.errors`` maps each class to one, once. Every
error is serializable as ``(class name, message)`` so that a conductor *call* can raise
the same error in the API process (see ``sysinv_common.messaging``).
"""

from __future__ import annotations


class SysinvError(Exception):
    """Base class: ``message`` is what an operator reads (sysinv's faultstring)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(SysinvError):
    """The request itself is wrong: a bad value, a missing field, a bad format."""


class NotFound(SysinvError):
    """The named resource does not exist."""


class Conflict(SysinvError):
    """The request contradicts the current state (duplicate, wrong status, ...)."""


class InvalidState(Conflict):
    """A compare-and-set state transition lost: the row was not in the expected state."""


class Forbidden(SysinvError):
    """The caller may not do this."""


class KubeOperationFailed(SysinvError):
    """The Kubernetes API refused or failed an operation; the database was left unchanged."""


class Unavailable(SysinvError):
    """Something the request needs cannot be reached now: the same request may succeed
    when tried again a little later (the API answers 503 with Retry-After)."""


class ConductorUnavailable(Unavailable):
    """The conductor did not answer a call in time."""


class BrokerUnavailable(Unavailable):
    """The message broker (Redis) cannot be reached: nothing can be sent or answered."""


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached: down, restarting, or the connection was lost."""


#: Every class a conductor call may send back, by name.
REMOTE_ERRORS: dict[str, type[SysinvError]] = {
    cls.__name__: cls
    for cls in (
        SysinvError,
        InvalidInput,
        NotFound,
        Conflict,
        InvalidState,
        Forbidden,
        KubeOperationFailed,
        Unavailable,
        ConductorUnavailable,
        BrokerUnavailable,
        DatabaseUnavailable,
    )
}
