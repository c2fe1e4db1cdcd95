"""Generated secrets (chart passwords), encrypted at rest with a Fernet key (0600 file)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sysinv_common.db.base import Base, utcnow


class GeneratedSecret(Base):
    """One secret by name; ``ciphertext`` is a Fernet token, never the value itself."""

    __tablename__ = "secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
