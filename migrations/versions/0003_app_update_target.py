"""apps: update target

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 14:24:46.021717
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_version", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("target_tarball_path", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("target_tarball_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("target_tarball_digest")
        batch_op.drop_column("target_tarball_path")
        batch_op.drop_column("target_version")
