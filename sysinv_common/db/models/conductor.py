"""The conductors' singleton duties: who may run them (a lease), and who ran them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sysinv_common.db.base import Base


class ConductorLease(Base):
    """The lease of a set of duties (``audits``): the one conductor that runs them.

    Written only by ``sysinv_common.states.duties``, each write a compare-and-set on
    ``generation``. ``holder`` NULL with ``holder_host`` set: handed to that host's
    conductor (a swact), which has not taken it yet.
    """

    __tablename__ = "conductor_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(255))
    holder_host: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Incremented by every write: the compare-and-set's witness.
    generation: Mapped[int] = mapped_column(Integer, default=0)


class ConductorDuty(Base):
    """How often a conductor ran one duty, and when last: the record that shows which
    conductor runs the audits (one row per duty and conductor)."""

    __tablename__ = "conductor_duties"

    duty: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    runs: Mapped[int] = mapped_column(Integer, default=0)
    first_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
