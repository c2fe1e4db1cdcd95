"""Applications, their charts, deployed releases and per-operation events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sysinv_common.db.base import Base, TimestampMixin, UuidMixin, utcnow


class App(UuidMixin, TimestampMixin, Base):
    __tablename__ = "apps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    app_version: Mapped[str] = mapped_column(String(255))
    manifest_name: Mapped[str | None] = mapped_column(String(255))
    manifest_file: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    progress: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    # The bundle's sha256: its bytes are in app_bundles (sysinv_common.apps.bundle_store).
    tarball_digest: Mapped[str | None] = mapped_column(String(64))
    # The operation in progress and who runs it: a lease (holder, expiry), never process state.
    operation: Mapped[str | None] = mapped_column(String(32))
    lease_holder: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    abort_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    # During an update: the version being moved to and its stored bundle.
    target_version: Mapped[str | None] = mapped_column(String(255))
    target_tarball_digest: Mapped[str | None] = mapped_column(String(64))
    # Keep user overrides across the update; None: as the new bundle's metadata says.
    target_reuse_user_overrides: Mapped[bool | None] = mapped_column(Boolean)
    # Keep chart attributes (enabled) across the update; None: as the new bundle says.
    target_reuse_attributes: Mapped[bool | None] = mapped_column(Boolean)

    charts: Mapped[list[AppChart]] = relationship(
        back_populates="app", cascade="all, delete-orphan", passive_deletes=True
    )


class AppChart(Base):
    """Per (app, chart, namespace): the enabled attribute and the operator's overrides."""

    __tablename__ = "app_charts"
    __table_args__ = (
        UniqueConstraint("app_id", "chart_name", "namespace", name="uq_app_charts_chart"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    chart_name: Mapped[str] = mapped_column(String(255))
    namespace: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    user_overrides: Mapped[str | None] = mapped_column(Text)

    app: Mapped[App] = relationship(back_populates="charts")


class AppRelease(Base):
    """A Helm release the last apply or update deployed."""

    __tablename__ = "app_releases"
    __table_args__ = (UniqueConstraint("app_id", "release", "namespace", name="uq_app_releases"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    chart_name: Mapped[str] = mapped_column(String(255))
    release: Mapped[str] = mapped_column(String(255))
    namespace: Mapped[str] = mapped_column(String(255))
    chart_version: Mapped[str | None] = mapped_column(String(64))
    revision: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class AppEvent(Base):
    """One step of one operation on one chart: the source of ``progress``."""

    __tablename__ = "app_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    operation: Mapped[str] = mapped_column(String(32))
    chart: Mapped[str | None] = mapped_column(String(255))
    phase: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AppBundle(Base):
    """An uploaded bundle, named by its sha256; its bytes are in ``chunks`` rows, so any
    API replica can store it and any conductor read it."""

    __tablename__ = "app_bundles"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    chunks: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AppBundleChunk(Base):
    __tablename__ = "app_bundle_chunks"

    digest: Mapped[str] = mapped_column(
        ForeignKey("app_bundles.digest", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ChartArchive(Base):
    """A chart archive of the chart repository, by its file name there
    (``<chart>-<version>.tgz``): the one content (sha256) that name stands for on every
    conductor (``sysinv_common.apps.chart_archives``)."""

    __tablename__ = "chart_archives"

    file_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AppChartArchive(Base):
    """An application version holds a chart archive: its bundle brought those bytes."""

    __tablename__ = "app_chart_archives"

    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True)
    app_version: Mapped[str] = mapped_column(String(255), primary_key=True)
    file_name: Mapped[str] = mapped_column(
        ForeignKey("chart_archives.file_name"), primary_key=True, index=True
    )
