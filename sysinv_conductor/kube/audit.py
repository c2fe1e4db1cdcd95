"""What the node label audit found and repaired."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LabelDrift:
    hostname: str
    changed: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
