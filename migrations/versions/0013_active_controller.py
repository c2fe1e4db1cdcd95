"""system: the active controller (host-swact moves it)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-20 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("system", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active_controller_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_system_active_controller_id_hosts"),
            "hosts",
            ["active_controller_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("system", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_system_active_controller_id_hosts"), type_="foreignkey"
        )
        batch_op.drop_column("active_controller_id")
