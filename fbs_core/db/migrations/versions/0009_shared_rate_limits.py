"""rate limits shared by every process on one database

Processes sharing a PostgreSQL database keep each remote account's request bucket and
concurrency slots here, so together they stay within the limits a plugin declares.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fbs_core.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "rate_limit_buckets",
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", fbs_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("merchant_id", "key"),
    )
    op.create_table(
        "rate_limit_slots",
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=True),
        sa.Column("expires_at", fbs_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("merchant_id", "key", "slot"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("rate_limit_slots")
    op.drop_table("rate_limit_buckets")
