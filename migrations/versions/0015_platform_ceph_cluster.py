"""storage_backends: the platform-managed Ceph cluster sysinv forms from its hosts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("storage_backends", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cluster", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("cluster_keys", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("storage_backends", schema=None) as batch_op:
        batch_op.drop_column("cluster_keys")
        batch_op.drop_column("cluster")
