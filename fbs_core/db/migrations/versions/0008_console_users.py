"""merchant console: users, refused sign-ins, the session-signing key; search indexes

The console lists a merchant's orders newest first and finds one by its store number,
a SKU or a tracking number: each gets an index so a page costs the same at 100,000
orders as at 100.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fbs_core.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "console_users",
        sa.Column("id", ID, nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False),
        sa.Column("locked_at", fbs_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", fbs_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username", name="uq_console_users_username"),
    )
    op.create_table(
        "console_sign_in_failures",
        sa.Column("id", ID, nullable=False),
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=254), nullable=False),
        sa.Column("at", fbs_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_console_sign_in_failures_address", "console_sign_in_failures", ["address", "at"]
    )
    op.create_table(
        "console_secrets",
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=128), nullable=False),
        sa.Column("created_at", fbs_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("merchant_id", "name"),
    )

    op.create_index("ix_orders_merchant_id", "orders", ["merchant_id", "id"])
    op.create_index("ix_orders_merchant_number", "orders", ["merchant_id", "number"])
    op.create_index(
        "ix_orders_merchant_status_reason", "orders", ["merchant_id", "status", "hold_reason"]
    )
    op.create_index("ix_order_lines_merchant_sku", "order_lines", ["merchant_id", "sku"])
    op.create_index(
        "ix_shipments_merchant_tracking", "shipments", ["merchant_id", "tracking_number"]
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_shipments_merchant_tracking", table_name="shipments")
    op.drop_index("ix_order_lines_merchant_sku", table_name="order_lines")
    op.drop_index("ix_orders_merchant_status_reason", table_name="orders")
    op.drop_index("ix_orders_merchant_number", table_name="orders")
    op.drop_index("ix_orders_merchant_id", table_name="orders")
    op.drop_table("console_secrets")
    op.drop_index("ix_console_sign_in_failures_address", table_name="console_sign_in_failures")
    op.drop_table("console_sign_in_failures")
    op.drop_table("console_users")
