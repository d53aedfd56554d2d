"""store identity of orders and channel instances; installation ids

Orders become unique per (merchant, store identity, external id) instead of per channel
instance name, so renaming an instance keeps its orders. Orders already stored are given
the identity ``instance:<channel>``; a channel's first poll after the upgrade adopts them
under the identity it reports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 18:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import fbs_core.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}
"""Names the unnamed unique constraints of 0001 get when SQLite's table is rebuilt."""
_OLD_UNIQUE_SQLITE = "uq_orders_merchant_id_channel_external_id"
_OLD_UNIQUE_POSTGRESQL = "orders_merchant_id_channel_external_id_key"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "installations",
        sa.Column("merchant_id", sa.String(length=64), nullable=False),
        sa.Column("installation_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", fbs_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("merchant_id"),
    )
    with op.batch_alter_table("instance_states", schema=None) as batch_op:
        batch_op.add_column(sa.Column("store_identity", sa.String(length=255), nullable=True))

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("store_identity", sa.String(length=255), nullable=True))
    op.execute("UPDATE orders SET store_identity = 'instance:' || channel")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:  # SQLite rebuilds the table; rows pointing at orders are checked at commit
        op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table(
        "orders", schema=None, naming_convention=_SQLITE_NAMES if sqlite else None
    ) as batch_op:
        batch_op.alter_column("store_identity", existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_constraint(
            _OLD_UNIQUE_SQLITE if sqlite else _OLD_UNIQUE_POSTGRESQL, type_="unique"
        )
        batch_op.create_unique_constraint(
            "uq_orders_store_order", ["store_identity", "merchant_id", "external_id"]
        )


def downgrade() -> None:
    """Revert this revision (orders of a renamed instance keep their new channel name)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("PRAGMA defer_foreign_keys = ON")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint("uq_orders_store_order", type_="unique")
        batch_op.create_unique_constraint(
            _OLD_UNIQUE_SQLITE if sqlite else _OLD_UNIQUE_POSTGRESQL,
            ["merchant_id", "channel", "external_id"],
        )
        batch_op.drop_column("store_identity")
    with op.batch_alter_table("instance_states", schema=None) as batch_op:
        batch_op.drop_column("store_identity")
    op.drop_table("installations")
