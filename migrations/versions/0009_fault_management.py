"""fault management: active alarms (one per alarm id and entity), the event log, webhook
subscriptions and their deliveries; hosts: when their configuration target was given

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alarm_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_subscriptions")),
        sa.UniqueConstraint("uuid", name=op.f("uq_alarm_subscriptions_uuid")),
    )
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alarm_id", sa.String(length=16), nullable=False),
        sa.Column("entity_type_id", sa.String(length=255), nullable=False),
        sa.Column("entity_instance_id", sa.String(length=255), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("alarm_type", sa.String(length=64), nullable=False),
        sa.Column("probable_cause", sa.String(length=64), nullable=False),
        sa.Column("proposed_repair_action", sa.Text(), nullable=False),
        sa.Column("service_affecting", sa.Boolean(), nullable=False),
        sa.Column("suppression", sa.Boolean(), nullable=False),
        sa.Column("suppression_status", sa.String(length=16), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
        sa.UniqueConstraint("alarm_id", "entity_instance_id", name="uq_alarms_alarm_id_entity"),
        sa.UniqueConstraint("uuid", name=op.f("uq_alarms_uuid")),
    )
    op.create_table(
        "event_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_log_id", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("entity_type_id", sa.String(length=255), nullable=False),
        sa.Column("entity_instance_id", sa.String(length=255), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("event_log_type", sa.String(length=64), nullable=False),
        sa.Column("probable_cause", sa.String(length=64), nullable=False),
        sa.Column("proposed_repair_action", sa.Text(), nullable=False),
        sa.Column("service_affecting", sa.Boolean(), nullable=False),
        sa.Column("suppression", sa.Boolean(), nullable=False),
        sa.Column("suppression_status", sa.String(length=16), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_log")),
        sa.UniqueConstraint("uuid", name=op.f("uq_event_log_uuid")),
    )
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_log_event_log_id"), ["event_log_id"], unique=False
        )

    op.create_table(
        "alarm_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["alarm_subscriptions.id"],
            name=op.f("fk_alarm_deliveries_subscription_id_alarm_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_deliveries")),
    )
    with op.batch_alter_table("alarm_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alarm_deliveries_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_alarm_deliveries_subscription_id"), ["subscription_id"], unique=False
        )

    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("config_target_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.drop_column("config_target_at")

    with op.batch_alter_table("alarm_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alarm_deliveries_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_alarm_deliveries_status"))

    op.drop_table("alarm_deliveries")
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_log_event_log_id"))

    op.drop_table("event_log")
    op.drop_table("alarms")
    op.drop_table("alarm_subscriptions")
