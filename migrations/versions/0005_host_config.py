"""hosts: desired configuration digest and apply error

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("config_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("config_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.drop_column("config_error")
        batch_op.drop_column("config_digest")
