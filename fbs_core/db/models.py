"""SQLAlchemy rows. Only ``fbs_core.db`` imports this module's classes' library.

Every row carries ``merchant_id`` so one database can serve many merchants.
Money columns are integer cents with the currency stored beside them. Text a channel
sends is sized for the largest the channels allow (Shopify: 255 characters for a SKU) or
unbounded, so no order is refused by the database for a long but valid field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .types import UTCDateTime, utcnow

STORE_IDENTITY_LENGTH = 255
"""The longest store identity a channel may report (a normalized URL fits)."""

ID = BigInteger().with_variant(Integer(), "sqlite")
"""SQLite only autoincrements ``INTEGER PRIMARY KEY``; elsewhere ids are 64-bit."""


class Base(DeclarativeBase):
    """Declarative base of every fbs table."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class InstanceStateRow(Base):
    """Poll bookkeeping for one configured channel or supplier instance."""

    __tablename__ = "instance_states"
    __table_args__ = (
        UniqueConstraint("merchant_id", "kind", "name"),
        Index("ix_instance_states_due", "merchant_id", "next_poll_at"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    """The process polling the instance now (for status displays)."""
    lease_token: Mapped[str | None] = mapped_column(String(32))
    """Unique to one claim: only the claim that holds it may record the poll's result."""
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cursor: Mapped[str | None] = mapped_column(Text)
    adapter_state: Mapped[dict[str, str] | None] = mapped_column(JSON)
    """The adapter's durable key-value state (``Adapter.state``), saved with the cursor."""
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    store_identity: Mapped[str | None] = mapped_column(String(STORE_IDENTITY_LENGTH))
    """The store a channel instance was last seen pointing at (recorded on its first poll)."""


class InstanceHeartbeatRow(Base):
    """When a running process last said it has this instance configured.

    Processes sharing a merchant take commands only for instances they have. A command
    whose instance no process has mentioned for a lease period belongs to an instance
    removed from every config: any process may take it, and holds its order
    ``instance_not_configured`` instead of leaving it waiting for nobody.
    """

    __tablename__ = "instance_heartbeats"
    __table_args__ = (UniqueConstraint("merchant_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InstallationRow(Base):
    """A merchant's installation id: random, made once per database, never changed.

    It is part of every PO number and idempotency key fbs sends out, so a new database
    (a reset, a move from SQLite to PostgreSQL) never repeats the numbers of an old one.
    """

    __tablename__ = "installations"

    merchant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    installation_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderRow(Base):
    """An order, unique per (merchant, store identity, external order id).

    ``channel`` is the instance now configured for the order's store: renaming the
    instance moves its orders to the new name, they are still the same orders.
    """

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint(
            "store_identity", "merchant_id", "external_id", name="uq_orders_store_order"
        ),
        Index("ix_orders_merchant_status", "merchant_id", "status"),
        Index("ix_orders_merchant_ship_by", "merchant_id", "ship_by"),
        Index("ix_orders_merchant_id", "merchant_id", "id"),
        Index("ix_orders_merchant_number", "merchant_id", "number"),
        Index("ix_orders_merchant_status_reason", "merchant_id", "status", "hold_reason"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(100))
    store_identity: Mapped[str] = mapped_column(String(STORE_IDENTITY_LENGTH))
    external_id: Mapped[str] = mapped_column(String(255))
    number: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(24))
    hold_reason: Mapped[str | None] = mapped_column(String(64))
    hold_message: Mapped[str | None] = mapped_column(Text)
    held_from: Mapped[str | None] = mapped_column(String(24))
    """The status the order was in when it was held: where approval resumes."""
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    ship_to: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    buyer_paid: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    channel_data: Mapped[dict[str, str] | None] = mapped_column(JSON)
    """The channel's own references for the order, handed back with its tracking."""
    ship_by: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the marketplace expects the order shipped (eBay's ship-by date), as the
    channel last reported it."""
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    upstream_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    charge_generation: Mapped[int] = mapped_column(Integer, default=0)
    source_generation: Mapped[int] = mapped_column(Integer, default=0)
    po_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[OrderLineRow]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        lazy="selectin",  # lines are needed wherever an order is
        order_by="OrderLineRow.id",
    )


class OrderLineRow(Base):
    """A line of an order as the channel reported it, with what has shipped."""

    __tablename__ = "order_lines"
    __table_args__ = (Index("ix_order_lines_merchant_sku", "merchant_id", "sku"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    line_id: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    shipped_quantity: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    channel_data: Mapped[dict[str, str] | None] = mapped_column(JSON)
    """The channel's own references for the line, handed back with its tracking."""
    upstream_quantity: Mapped[int | None] = mapped_column(Integer)
    """Units the channel still wants after lowering or removing the line once parts were
    bought (None: as ordered); the units above it are asked back from the warehouse."""

    order: Mapped[OrderRow] = relationship(back_populates="lines", lazy="raise")


class SourcingPlanRow(Base):
    """A sourcing plan chosen for an order, kept with its numbers so the choice is visible."""

    __tablename__ = "sourcing_plans"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    generation: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    parts_cents: Mapped[int] = mapped_column(BigInteger)
    core_charges_cents: Mapped[int] = mapped_column(BigInteger)
    shipping_cents: Mapped[int] = mapped_column(BigInteger)
    tax_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    explanation: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChargeRow(Base):
    """One attempt to charge the merchant's card for an order."""

    __tablename__ = "charges"
    __table_args__ = (UniqueConstraint("merchant_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    gateway: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    """``pending``, ``succeeded`` or ``failed``."""
    currency: Mapped[str] = mapped_column(String(3))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    parts_cents: Mapped[int] = mapped_column(BigInteger)
    core_charges_cents: Mapped[int] = mapped_column(BigInteger)
    shipping_cents: Mapped[int] = mapped_column(BigInteger)
    tax_cents: Mapped[int] = mapped_column(BigInteger)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RefundRow(Base):
    """Money given back on a charge, with why."""

    __tablename__ = "refunds"
    __table_args__ = (UniqueConstraint("merchant_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("charges.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    core_charges_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PurchaseOrderRow(Base):
    """A purchase order sent (or to be sent) to one warehouse; ``po_number`` is our id."""

    __tablename__ = "purchase_orders"
    __table_args__ = (UniqueConstraint("merchant_id", "po_number"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    po_number: Mapped[str] = mapped_column(String(100))
    supplier: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(24))
    supplier_reference: Mapped[str | None] = mapped_column(String(200))
    ship_from_zip: Mapped[str] = mapped_column(String(10), default="")
    currency: Mapped[str] = mapped_column(String(3))
    shipping_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    """The share of the charged tax that belongs to this purchase order's parts."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[PurchaseOrderLineRow]] = relationship(
        back_populates="purchase_order",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="PurchaseOrderLineRow.id",
    )


class PurchaseOrderLineRow(Base):
    """One part on a purchase order."""

    __tablename__ = "purchase_order_lines"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    line_id: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str] = mapped_column(String(255))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost_cents: Mapped[int] = mapped_column(BigInteger)
    core_charge_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    shipped_quantity: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0)

    purchase_order: Mapped[PurchaseOrderRow] = relationship(back_populates="lines", lazy="raise")


class ShipmentRow(Base):
    """A parcel a warehouse shipped, unique per (supplier instance, its shipment id)."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("merchant_id", "supplier", "shipment_id"),
        Index("ix_shipments_merchant_tracking", "merchant_id", "tracking_number"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"))
    supplier: Mapped[str] = mapped_column(String(100))
    shipment_id: Mapped[str] = mapped_column(String(200))
    carrier: Mapped[str] = mapped_column(String(100))
    tracking_number: Mapped[str] = mapped_column(String(200))
    tracking_url: Mapped[str | None] = mapped_column(Text)
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lines: Mapped[list[Any]] = mapped_column(JSON)
    tracking_pushed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimelineEventRow(Base):
    """One entry of an order's history."""

    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    status: Mapped[str | None] = mapped_column(String(24))
    message: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(120), default="system")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OutboxCommandRow(Base):
    """An outbound side effect, written in the transaction of the change that needs it.

    Workers claim due commands with a lease, run them against the plugin, and record the
    result; ``idempotency_key`` is derived from our ids and is what the remote dedupes on.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("merchant_id", "idempotency_key"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    target: Mapped[str] = mapped_column(String(100))
    """The instance the command talks to (a channel, supplier or gateway name)."""
    idempotency_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """``pending``, ``running``, ``done``, ``failed`` or ``cancelled``."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_token: Mapped[str | None] = mapped_column(String(32))
    """Unique to one claim: only the claim that holds it may record the result."""
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RateLimitBucketRow(Base):
    """A remote account's request bucket, shared by every process on the database.

    ``tokens`` as of ``updated_at`` (the database's clock); a call refills it at the
    declared rate up to the declared burst, then takes one. See
    :mod:`fbs_core.shared_limits`.
    """

    __tablename__ = "rate_limit_buckets"

    merchant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))


class RateLimitSlotRow(Base):
    """One of a remote account's concurrency slots, held under a lease while a call runs."""

    __tablename__ = "rate_limit_slots"

    merchant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True))


# -- merchant console ------------------------------------------------------------------


class ConsoleUserRow(Base):
    """A person who signs in to the merchant console; belongs to one merchant.

    ``username`` is unique across merchants: signing in names the user, and the user
    names the merchant whose orders the console shows.
    """

    __tablename__ = "console_users"
    __table_args__ = (UniqueConstraint("username", name="uq_console_users_username"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    """``owner``, ``staff`` or ``viewer``."""
    password_hash: Mapped[str] = mapped_column(Text)
    """argon2id, in the encoded form argon2-cffi writes (parameters and salt included)."""
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    """Raised by a new password or a removal, so sessions signed before stop working."""
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    """Wrong passwords in a row since the last good sign-in."""
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set when too many wrong passwords came in a row; only an owner (or a new password)
    lifts it."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsoleSignInFailureRow(Base):
    """A refused sign-in, kept a short while to limit attempts from one address."""

    __tablename__ = "console_sign_in_failures"
    __table_args__ = (Index("ix_console_sign_in_failures_address", "address", "at"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(64))
    """The merchant of the user named, or "" when no user has that name."""
    address: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsoleSecretRow(Base):
    """A random key the console makes once per database (the session-signing key).

    Kept in the database so every process serving the console signs and accepts the
    same cookies, and a restart does not sign everyone out.
    """

    __tablename__ = "console_secrets"

    merchant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """"" for a key of the whole database (the session key: one cookie names any user)."""
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
