"""service parameters (docker proxy, registry mirrors, the nodes' registry credentials)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-20 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_parameters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("section", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("personality", sa.String(length=32), nullable=True),
        sa.Column("resource", sa.String(length=255), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_parameters")),
        sa.UniqueConstraint("uuid", name=op.f("uq_service_parameters_uuid")),
        sa.UniqueConstraint(
            "service", "section", "name", name=op.f("uq_service_parameters_service")
        ),
    )


def downgrade() -> None:
    op.drop_table("service_parameters")
