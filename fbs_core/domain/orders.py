"""Orders: what a channel hands us, and what fbs keeps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from .addresses import Address
from .money import Money


class OrderStatus(StrEnum):
    """The states of an order (DESIGN.md section 4)."""

    received = "received"
    held = "held"
    approved = "approved"
    sourced = "sourced"
    charged = "charged"
    ordered = "ordered"
    partially_shipped = "partially_shipped"
    shipped = "shipped"
    completed = "completed"
    cancelled = "cancelled"
    rejected = "rejected"

    @property
    def is_final(self) -> bool:
        """True for states no automatic step leaves: completed, cancelled, rejected."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({OrderStatus.completed, OrderStatus.cancelled, OrderStatus.rejected})


class IncomingLine(BaseModel):
    """One line of an order as the channel reports it.

    ``quantity`` is a plain int on purpose: a zero or negative quantity from a channel is
    stored and rejected with a reason, not lost in a validation error.
    """

    model_config = ConfigDict(frozen=True)

    line_id: str
    sku: str
    quantity: int
    title: str = ""
    unit_price: Money
    """What the buyer paid per unit (before tax)."""
    channel_data: dict[str, str] = Field(default_factory=dict)
    """The channel's own references for this line (a fulfillment-order line item id, an
    eBay line item id): stored at intake and handed back on each ``TrackingLine``."""


class BuyerTotals(BaseModel):
    """What the buyer paid the merchant, as the channel reports it."""

    model_config = ConfigDict(frozen=True)

    items: Money
    shipping: Money
    tax: Money
    total: Money


class IncomingOrder(BaseModel):
    """A paid order read from a channel, mapped to fbs's shape by the channel plugin.

    ``updated_at`` is the channel's modification stamp; a later stamp for the same
    ``external_id`` is reconciled onto the order fbs already has.
    ``cancelled`` is True when the channel reports the order cancelled or refunded.
    """

    model_config = ConfigDict(frozen=True)

    external_id: str
    number: str = ""
    placed_at: AwareDatetime
    updated_at: AwareDatetime
    currency: str = "USD"
    lines: tuple[IncomingLine, ...]
    ship_to: Address | None
    buyer_paid: BuyerTotals | None = None
    cancelled: bool = False
    note: str = ""
    awaiting: str | None = None
    """The channel asks fbs to wait before buying anything, and says why (a cancellation
    the buyer requested that the marketplace has not decided yet). The order is held with
    the reason ``awaiting_channel`` while nothing is bought; once a later version of the
    order no longer asks, it is reviewed again."""
    ship_by: AwareDatetime | None = None
    """When the marketplace expects the order shipped (eBay's ``shipByDate``), if it says:
    fbs shows it and warns before it is missed."""
    channel_data: dict[str, str] = Field(default_factory=dict)
    """The channel's own references for this order (small, text only): stored at intake,
    replaced by a later modification, and handed back on ``TrackingPush.channel_data``."""


class UnreadableOrder(BaseModel):
    """An order the channel returned that could not be mapped (missing or malformed fields).

    The core stores it as a ``rejected`` order with the reason, so nothing accepted upstream
    is silently dropped.
    """

    model_config = ConfigDict(frozen=True)

    external_id: str
    reason: str = "unreadable_order"
    message: str
    updated_at: AwareDatetime | None = None


class OrderBatch(BaseModel):
    """One poll's worth of orders plus the cursor to resume from next time."""

    model_config = ConfigDict(frozen=True)

    orders: tuple[IncomingOrder | UnreadableOrder, ...] = ()
    cursor: str | None = None
    """Opaque to the core; stored per instance and passed back on the next poll."""
    state: dict[str, str] | None = None
    """Keys to set in the instance's durable state (``Adapter.state``), committed with
    the orders and the cursor; keys not named keep their value."""
    more: bool = False
    """True when the remote has more past ``cursor``: the core polls again at once."""


class OrderLine(BaseModel):
    """A stored order line."""

    model_config = ConfigDict(frozen=True)

    line_id: str
    sku: str
    quantity: int
    title: str = ""
    unit_price: Money
    shipped_quantity: int = 0
    cancelled_quantity: int = 0
    upstream_quantity: int | None = None
    """What the channel still wants after lowering the line once parts were bought."""
    channel_data: dict[str, str] = Field(default_factory=dict)


class TimelineEvent(BaseModel):
    """One entry in an order's history: when, what, why, by whom."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    event: str
    status: OrderStatus | None = None
    message: str = ""
    actor: str = "system"
    """``system``, ``merchant`` or ``plugin:<instance>``."""
    data: dict[str, object] = Field(default_factory=dict)


class Order(BaseModel):
    """An order as fbs keeps it."""

    model_config = ConfigDict(frozen=True)

    id: int
    merchant_id: str
    channel: str
    external_id: str
    number: str = ""
    status: OrderStatus
    hold_reason: str | None = None
    hold_message: str | None = None
    currency: str = "USD"
    lines: tuple[OrderLine, ...]
    ship_to: Address | None
    buyer_paid: BuyerTotals | None = None
    placed_at: datetime
    created_at: datetime
    updated_at: datetime
    channel_data: dict[str, str] = Field(default_factory=dict)
    ship_by: datetime | None = None
    """When the marketplace expects the order shipped, if the channel says (``ship_by``
    in its channel data)."""

    @property
    def items_value(self) -> Money:
        """What the buyer paid for the parts, before tax and shipping."""
        cents = sum(line.unit_price.cents * max(line.quantity, 0) for line in self.lines)
        return Money(cents=cents, currency=self.currency)
