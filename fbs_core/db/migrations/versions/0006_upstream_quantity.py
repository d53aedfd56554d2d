"""upstream quantity on order lines

What the channel now wants of a line it lowered or removed after parts were bought: the
warehouse is asked to stop the units above it, and what it stops is refunded.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upstream_quantity", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_column("upstream_quantity")
