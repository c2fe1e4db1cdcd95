"""What the drift audit last found on an applied application (docs/drift.md).

Written only by ``sysinv_conductor.drift.record``; the API reads it for application-show.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from sysinv_common.db.base import Base


class AppDrift(Base):
    """One row per audited app: the drifted objects (a JSON list, ``[]`` when none) and
    when drift was first seen (None while there is none)."""

    __tablename__ = "app_drift"

    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    objects: Mapped[str] = mapped_column(Text, default="[]")
    since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # What the audit could not check (a release whose manifest helm could not give), or None.
    error: Mapped[str | None] = mapped_column(Text)
