"""The interface every deployer implements, and what the conductor gives them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from armada.events import Event
from armada.plan import Plan

EventSink = Callable[[Event], None]


class ClusterOps(Protocol):
    """Kubernetes API work the deployer needs; the conductor implements it."""

    def ensure_namespace(self, namespace: str) -> None: ...

    def delete_resources(self, namespace: str, kind: str, labels: Mapping[str, str]) -> None: ...


class NotSupported(Exception):
    """The deployer cannot do this operation at all: a property of the tool, not a failure
    of this run (nothing was attempted). The caller chooses what to do instead.

    Not a sysinv error: armada imports nothing of sysinv's, so the conductor decides how a
    refusal reads to the operator.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass
class ChartOutcome:
    chart: str
    release: str
    namespace: str
    # deployed | failed | refused (another owner's release: nothing was done) | cancelled |
    # skipped | uninstalled
    status: str
    revision: int | None = None
    chart_version: str | None = None
    message: str = ""


@dataclass
class RunResult:
    ok: bool
    cancelled: bool
    outcomes: list[ChartOutcome] = field(default_factory=list)
    message: str = ""


class Deployer(Protocol):
    """What the conductor asks of a deployer.

    An operation the tool cannot do at all raises ``NotSupported`` before acting, so the
    caller can choose another way; a failure while acting is a ``RunResult`` not ok.
    """

    def apply(self, plan: Plan, on_event: EventSink, cancel: threading.Event) -> RunResult: ...

    def remove(self, plan: Plan, on_event: EventSink, cancel: threading.Event) -> RunResult: ...

    def rollback(
        self, plan: Plan, revisions: Mapping[tuple[str, str], int], on_event: EventSink
    ) -> RunResult:
        """Return each release of ``plan`` listed in ``revisions`` (by (release,
        namespace)) to that revision; releases not listed are left alone."""
        ...

    def clear_pending(self, plan: Plan, on_event: EventSink) -> list[str]:
        """Leave no release of ``plan`` pending (its runner was killed); one line for each
        release that needed something done."""
        ...

    def foreign_owners(self, plan: Plan, known: Collection[str] = ()) -> dict[tuple[str, str], str]:
        """The releases of ``plan`` that exist and say they belong to another owner than
        ``plan.owner``: (release, namespace) -> that owner, as an operator reads it
        ("application X" when X is one of ``known``). NotSupported if the tool cannot tell.
        """
        ...
