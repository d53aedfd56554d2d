"""durable key-value state of a channel or supplier instance

An adapter may keep more than one cursor, or a rotating OAuth refresh token, between
polls; it is saved in the same transaction as the cursor.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("instance_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("adapter_state", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("instance_states", schema=None) as batch_op:
        batch_op.drop_column("adapter_state")
