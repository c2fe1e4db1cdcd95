"""applications: apps, charts, releases, events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 13:07:10.091480
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("app_version", sa.String(length=255), nullable=False),
        sa.Column("manifest_name", sa.String(length=255), nullable=True),
        sa.Column("manifest_file", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tarball_path", sa.String(length=1024), nullable=True),
        sa.Column("tarball_digest", sa.String(length=64), nullable=True),
        sa.Column("operation", sa.String(length=32), nullable=True),
        sa.Column("lease_holder", sa.String(length=255), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("abort_requested", sa.Boolean(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apps")),
        sa.UniqueConstraint("name", name=op.f("uq_apps_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_apps_uuid")),
    )
    op.create_table(
        "app_charts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("chart_name", sa.String(length=255), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("user_overrides", sa.Text(), nullable=True),
        sa.Column("system_overrides_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_app_charts_app_id_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_charts")),
        sa.UniqueConstraint("app_id", "chart_name", "namespace", name="uq_app_charts_chart"),
    )
    with op.batch_alter_table("app_charts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_charts_app_id"), ["app_id"], unique=False)

    op.create_table(
        "app_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=32), nullable=False),
        sa.Column("chart", sa.String(length=255), nullable=True),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_app_events_app_id_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_events")),
    )
    with op.batch_alter_table("app_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_events_app_id"), ["app_id"], unique=False)

    op.create_table(
        "app_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("chart_name", sa.String(length=255), nullable=False),
        sa.Column("release", sa.String(length=255), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("chart_version", sa.String(length=64), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=True),
        sa.Column("values_digest", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"], ["apps.id"], name=op.f("fk_app_releases_app_id_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_releases")),
        sa.UniqueConstraint("app_id", "release", "namespace", name="uq_app_releases"),
    )
    with op.batch_alter_table("app_releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_releases_app_id"), ["app_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("app_releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_releases_app_id"))

    op.drop_table("app_releases")
    with op.batch_alter_table("app_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_events_app_id"))

    op.drop_table("app_events")
    with op.batch_alter_table("app_charts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_charts_app_id"))

    op.drop_table("app_charts")
    op.drop_table("apps")
