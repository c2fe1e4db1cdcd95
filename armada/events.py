"""Structured progress events, identical for every deployer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

PHASES = (
    "queued",
    "namespace",
    "pre-delete",
    "helm",
    "waiting",
    "test",
    "done",
    "failed",
    "cancelled",
    "rollback",
)


@dataclass(frozen=True)
class Event:
    chart: str  # chart document name; "" for manifest-level events
    phase: str
    message: str
    time: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"unknown event phase {self.phase!r}")
