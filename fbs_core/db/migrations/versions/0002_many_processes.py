"""many processes: text sized for what channels send, per-claim lease tokens, due-poll index

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
    """Revert this revision."""
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
