"""storage backends (the platform's Ceph cluster, platform-managed or external)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-21 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "storage_backends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("backend", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("services", sa.String(length=255), nullable=True),
        sa.Column("monitors", sa.JSON(), nullable=False),
        sa.Column("fsid", sa.String(length=64), nullable=True),
        sa.Column("keyring_path", sa.String(length=4096), nullable=True),
        sa.Column("replication", sa.Integer(), nullable=True),
        sa.Column("min_replication", sa.Integer(), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storage_backends")),
        sa.UniqueConstraint("uuid", name=op.f("uq_storage_backends_uuid")),
        sa.UniqueConstraint("name", name=op.f("uq_storage_backends_name")),
        sa.UniqueConstraint("backend", name=op.f("uq_storage_backends_backend")),
    )


def downgrade() -> None:
    op.drop_table("storage_backends")
