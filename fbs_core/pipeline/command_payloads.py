"""What each outbox command carries: typed, versioned payloads.

A command is written in the transaction of the change that needs it and may be run by
another process, after a restart, or by a newer fbs. Its payload is therefore a pydantic
model with a ``version``: written with :meth:`CommandPayload.stored`, read back with
:meth:`CommandPayload.read`, which refuses (as a fatal error naming the command) a
payload it cannot understand instead of guessing at a dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from ..domain import Address, TrackingPush
from ..errors import FatalError


class CommandPayload(BaseModel):
    """The base of every command's payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ClassVar[str]
    """The command kind this payload belongs to."""
    version: Literal[1] = 1
    """Raised when a payload's shape changes; an older fbs refuses what it cannot read."""

    @classmethod
    def read(cls, stored: Mapping[str, Any]) -> Self:
        """The payload a command stored; a fatal error if this fbs cannot read it."""
        try:
            return cls.model_validate(dict(stored))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "payload"
            raise FatalError(
                f"a {cls.kind} command's payload cannot be read ({where}: {first['msg']}); "
                "it was written by another version of fbs",
                code="unreadable_command",
            ) from None

    def stored(self) -> dict[str, Any]:
        """The payload as the outbox keeps it (JSON)."""
        return self.model_dump(mode="json")


class SourcePayload(CommandPayload):
    """Choose warehouses for an order (or, with ``resource_po``, for one refused PO)."""

    kind: ClassVar[str] = "source"
    generation: int
    """The order's sourcing generation when written; a newer one makes this stale."""
    resource_po: str | None = None
    exclude: tuple[str, ...] = ()
    """Warehouses not to buy from (they refused this order for stock)."""
    absorb: bool = False
    """The merchant approved paying more than was charged for the replacement."""


class ChargePayload(CommandPayload):
    """Charge the merchant's card for a plan: the amount and its breakdown."""

    kind: ClassVar[str] = "charge"
    order_id: int
    order_reference: str
    currency: str
    amount_cents: int
    parts_cents: int
    core_charges_cents: int
    shipping_cents: int
    tax_cents: int


class PurchaseOrderLinePayload(BaseModel):
    """One part of a purchase order, at the cost fbs expects to pay."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sku: str
    quantity: int
    unit_cost_cents: int
    core_charge_cents: int


class PlacePurchaseOrderPayload(CommandPayload):
    """Send a purchase order to a warehouse."""

    kind: ClassVar[str] = "place_po"
    po_number: str
    order_reference: str
    ship_to: Address | None
    currency: str
    lines: tuple[PurchaseOrderLinePayload, ...]


class CancelPurchaseOrderPayload(CommandPayload):
    """Ask a warehouse to stop a purchase order, or (``keep``) part of it."""

    kind: ClassVar[str] = "cancel_po"
    po_number: str
    keep: dict[str, int] | None = None
    """Part number → units the PO should end with; None stops everything unshipped."""


class RefundPayload(CommandPayload):
    """Give back part or all of a charge."""

    kind: ClassVar[str] = "refund"
    order_id: int
    charge_reference: str
    amount_cents: int
    currency: str
    reason: str


class PushTrackingPayload(CommandPayload):
    """Write one parcel's tracking to the channel."""

    kind: ClassVar[str] = "push_tracking"
    push: TrackingPush
    shipment_row_id: int


class AcknowledgePayload(CommandPayload):
    """Tell the channel fbs took the order."""

    kind: ClassVar[str] = "acknowledge"
    external_id: str
    message: str


class NotifyPayload(CommandPayload):
    """Hand a timeline event to the plugins that listen for it."""

    kind: ClassVar[str] = "notify"
    event_id: int
    event: str
