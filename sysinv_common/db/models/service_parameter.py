"""Service parameters: settings an operator changes through the API after bootstrap
(StarlingX's ``system service-parameter-*``), one row per (service, section, name)."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sysinv_common.db.base import Base, TimestampMixin, UuidMixin


class ServiceParameter(UuidMixin, TimestampMixin, Base):
    __tablename__ = "service_parameters"
    __table_args__ = (UniqueConstraint("service", "section", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service: Mapped[str] = mapped_column(String(64))
    section: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(64))
    #: A secret parameter (a password) holds a Fernet token of the conductor's secrets key.
    value: Mapped[str] = mapped_column(Text)
    personality: Mapped[str | None] = mapped_column(String(32))
    resource: Mapped[str | None] = mapped_column(String(255))
