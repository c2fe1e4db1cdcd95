"""initial schema: system, platform settings, hosts, labels

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 12:46:06.093406
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("personality", sa.String(length=32), nullable=True),
        sa.Column("subfunctions", sa.String(length=255), nullable=True),
        sa.Column("administrative", sa.String(length=32), nullable=False),
        sa.Column("operational", sa.String(length=32), nullable=False),
        sa.Column("availability", sa.String(length=32), nullable=False),
        sa.Column("mgmt_mac", sa.String(length=17), nullable=True),
        sa.Column("mgmt_ip", sa.String(length=64), nullable=True),
        sa.Column("location", sa.JSON(), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("bm_ip", sa.String(length=64), nullable=True),
        sa.Column("bm_type", sa.String(length=32), nullable=True),
        sa.Column("bm_username", sa.String(length=255), nullable=True),
        sa.Column("boot_device", sa.String(length=255), nullable=True),
        sa.Column("rootfs_device", sa.String(length=255), nullable=True),
        sa.Column("install_output", sa.String(length=32), nullable=True),
        sa.Column("console", sa.String(length=255), nullable=True),
        sa.Column("hw_settle", sa.String(length=16), nullable=True),
        sa.Column("clock_synchronization", sa.String(length=16), nullable=True),
        sa.Column("inventory", sa.JSON(), nullable=False),
        sa.Column("config_target", sa.String(length=36), nullable=True),
        sa.Column("config_applied", sa.String(length=36), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kube_node", sa.Text(), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosts")),
        sa.UniqueConstraint("hostname", name=op.f("uq_hosts_hostname")),
        sa.UniqueConstraint("mgmt_mac", name=op.f("uq_hosts_mgmt_mac")),
        sa.UniqueConstraint("uuid", name=op.f("uq_hosts_uuid")),
    )
    op.create_table(
        "platform_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mgmt_subnet", sa.String(length=64), nullable=False),
        sa.Column("cluster_host_subnet", sa.String(length=64), nullable=False),
        sa.Column("pod_subnet", sa.String(length=64), nullable=False),
        sa.Column("service_subnet", sa.String(length=64), nullable=False),
        sa.Column("kubernetes_api_endpoint", sa.String(length=255), nullable=True),
        sa.Column("registry_address", sa.String(length=255), nullable=True),
        sa.Column("registry_ca_cert_file", sa.String(length=1024), nullable=True),
        sa.Column("registry_credentials_ref", sa.String(length=255), nullable=True),
        sa.Column("ceph_monitors", sa.JSON(), nullable=False),
        sa.Column("ceph_fsid", sa.String(length=64), nullable=True),
        sa.Column("ceph_keyring_path", sa.String(length=1024), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_settings")),
    )
    op.create_table(
        "system",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("system_type", sa.String(length=32), nullable=False),
        sa.Column("system_mode", sa.String(length=32), nullable=False),
        sa.Column("region_name", sa.String(length=255), nullable=False),
        sa.Column("software_version", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_system")),
        sa.UniqueConstraint("uuid", name=op.f("uq_system_uuid")),
    )
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("label_key", sa.String(length=317), nullable=False),
        sa.Column("label_value", sa.String(length=63), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_id"], ["hosts.id"], name=op.f("fk_labels_host_id_hosts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
        sa.UniqueConstraint("host_id", "label_key", name="uq_labels_host_id_key"),
        sa.UniqueConstraint("uuid", name=op.f("uq_labels_uuid")),
    )
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_labels_host_id"), ["host_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labels_host_id"))

    op.drop_table("labels")
    op.drop_table("system")
    op.drop_table("platform_settings")
    op.drop_table("hosts")
