"""app bundles kept in the database; stored paths and unused digests dropped

Any API replica stores an upload and any conductor reads it, with no shared filesystem.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_bundles",
        sa.Column("digest", sa.String(length=64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "app_bundle_chunks",
        sa.Column(
            "digest",
            sa.String(length=64),
            sa.ForeignKey("app_bundles.digest", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("tarball_path")
        batch_op.drop_column("target_tarball_path")
    with op.batch_alter_table("app_charts", schema=None) as batch_op:
        batch_op.drop_column("system_overrides_digest")
    with op.batch_alter_table("app_releases", schema=None) as batch_op:
        batch_op.drop_column("values_digest")


def downgrade() -> None:
    with op.batch_alter_table("app_releases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("values_digest", sa.String(length=64), nullable=True))
    with op.batch_alter_table("app_charts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("system_overrides_digest", sa.String(length=64), nullable=True)
        )
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_tarball_path", sa.String(length=1024)))
        batch_op.add_column(sa.Column("tarball_path", sa.String(length=1024)))
    op.drop_table("app_bundle_chunks")
    op.drop_table("app_bundles")
