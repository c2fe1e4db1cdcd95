"""chart archives of the chart repository and the application versions that hold them

One file name of the chart repository stands for one content on every conductor: an upload
whose archive differs from the one an application holds under that name is refused.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chart_archives",
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_name", name=op.f("pk_chart_archives")),
    )
    op.create_table(
        "app_chart_archives",
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("app_version", sa.String(length=255), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_app_chart_archives_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["file_name"],
            ["chart_archives.file_name"],
            name=op.f("fk_app_chart_archives_file_name_chart_archives"),
        ),
        sa.PrimaryKeyConstraint(
            "app_id", "app_version", "file_name", name=op.f("pk_app_chart_archives")
        ),
    )
    with op.batch_alter_table("app_chart_archives", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_app_chart_archives_file_name"), ["file_name"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("app_chart_archives", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_chart_archives_file_name"))
    op.drop_table("app_chart_archives")
    op.drop_table("chart_archives")
