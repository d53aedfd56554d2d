"""the date an order must ship by

Marketplaces such as eBay judge sellers on tracking uploaded before a ship-by date; the
order keeps it so fbs can show it and warn before it is missed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fbs_core.db.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ship_by", fbs_core.db.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_orders_merchant_ship_by", ["merchant_id", "ship_by"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_merchant_ship_by")
        batch_op.drop_column("ship_by")
