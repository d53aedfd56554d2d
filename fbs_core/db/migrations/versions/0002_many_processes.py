"""many processes: text sized for what channels send, per-claim lease tokens, due-poll index, heartbeats

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fbs_core.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WIDENED = {
    "orders": ("external_id", "number"),
    "order_lines": ("line_id", "sku"),
    "purchase_order_lines": ("line_id", "sku"),
    "instance_states": ("lease_owner",),
    "outbox": ("lease_owner",),
}
NULLABLE = {"lease_owner"}
TOKENS = ("instance_states", "outbox")


def upgrade() -> None:
    """Apply this revision."""
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(
                    column,
                    existing_type=sa.String(length=100),
                    type_=sa.String(length=255),
                    existing_nullable=column in NULLABLE,
                )
            if table in TOKENS:
                batch.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_instance_states_due", "instance_states", ["merchant_id", "next_poll_at"], unique=False
    )
    op.create_table(
        "instance_heartbeats",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("seen_at", fbs_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("merchant_id", "kind", "name"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("instance_heartbeats")
    op.drop_index("ix_instance_states_due", table_name="instance_states")
    for table, columns in WIDENED.items():
        with op.batch_alter_table(table) as batch:
            if table in TOKENS:
                batch.drop_column("lease_token")
            for column in columns:
                batch.alter_column(
                    column,
                    existing_type=sa.String(length=255),
                    type_=sa.String(length=100),
                    existing_nullable=column in NULLABLE,
                )
