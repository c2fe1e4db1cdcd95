"""system: timezone, latitude, longitude; apps: reuse of chart attributes on update

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("system", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC")
        )
        batch_op.add_column(sa.Column("latitude", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.String(length=64), nullable=True))
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_reuse_attributes", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_column("target_reuse_attributes")
    with op.batch_alter_table("system", schema=None) as batch_op:
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
        batch_op.drop_column("timezone")
