"""channel data on orders and order lines

A channel's own references (Shopify fulfillment-order line item ids, eBay line item ids)
are kept with the order and each of its lines and handed back with the tracking.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_data", sa.JSON(), nullable=True))
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel_data", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("channel_data")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("channel_data")
