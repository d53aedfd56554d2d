"""Purchase orders sent to warehouses, and the shipments that come back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from .addresses import Address
from .money import Money


class PurchaseOrderStatus(StrEnum):
    """The states of one purchase order."""

    pending = "pending"
    placed = "placed"
    partially_shipped = "partially_shipped"
    shipped = "shipped"
    cancel_requested = "cancel_requested"
    cancelled = "cancelled"
    failed = "failed"
    replaced = "replaced"
    """Refused by its warehouse and bought elsewhere by a new purchase order."""


class PurchaseOrderLine(BaseModel):
    """One part on a purchase order, at the cost fbs expects to pay."""

    model_config = ConfigDict(frozen=True)

    sku: str
    quantity: int
    unit_cost: Money
    core_charge: Money


class PartNumberRules(BaseModel):
    """Which part numbers a warehouse's API can carry.

    A supplier adapter declares them (``Supplier.part_numbers``); sourcing never asks a
    warehouse about, nor buys from it, a part number that breaks them, so an order whose
    part no configured warehouse can carry is held before the card is charged.
    """

    model_config = ConfigDict(frozen=True)

    max_length: int | None = Field(default=None, ge=1)
    """Longest part number, in characters; None for no limit."""
    forbidden_characters: str = ""
    """Characters a part number may not contain (e.g. the API's list separator)."""

    def problem(self, sku: str) -> str | None:
        """Why ``sku`` cannot be carried, as a phrase ("is 80 characters long, …"), or None."""
        if not sku:
            return "is empty"
        if self.max_length is not None and len(sku) > self.max_length:
            return f"is {len(sku)} characters long; at most {self.max_length} fit"
        bad = sorted({c for c in sku if c in self.forbidden_characters})
        if bad:
            return "contains " + ", ".join(repr(c) for c in bad)
        return None


class PurchaseOrderRequest(BaseModel):
    """What fbs asks a warehouse to ship. ``po_number`` is fbs's id and the idempotency key.

    A supplier plugin must make placing the same ``po_number`` twice harmless: the warehouse
    either deduplicates on it or the plugin checks before placing. Each part number appears
    on one line only: store lines of the same part are merged, quantities summed.
    """

    model_config = ConfigDict(frozen=True)

    po_number: str
    supplier: str
    ship_to: Address
    lines: tuple[PurchaseOrderLine, ...]
    order_reference: str
    """The merchant-facing order number, for the packing slip."""

    @model_validator(mode="after")
    def _each_part_once(self) -> PurchaseOrderRequest:
        skus = [line.sku for line in self.lines]
        repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
        if repeated:
            raise ValueError(f"a part number appears on two lines: {', '.join(repeated)}")
        return self


def merge_lines(lines: Iterable[PurchaseOrderLine]) -> tuple[PurchaseOrderLine, ...]:
    """One line per part number, quantities summed, in the order parts first appear.

    Lines of one part on one purchase order come from one warehouse offer, so they share
    its unit cost and core charge; the first line's prices are kept.
    """
    merged: dict[str, PurchaseOrderLine] = {}
    for line in lines:
        seen = merged.get(line.sku)
        merged[line.sku] = (
            line
            if seen is None
            else seen.model_copy(update={"quantity": seen.quantity + line.quantity})
        )
    return tuple(merged.values())


class PurchaseOrderAck(BaseModel):
    """The warehouse's answer to a purchase order it accepted."""

    model_config = ConfigDict(frozen=True)

    po_number: str
    supplier_reference: str
    """The warehouse's own id for the order."""
    lines: tuple[PurchaseOrderLine, ...] = ()
    """The lines as the warehouse priced them; empty means exactly as requested."""


class ShipmentLine(BaseModel):
    """A part and quantity in one parcel."""

    model_config = ConfigDict(frozen=True)

    sku: str
    quantity: int


class ShipmentNotice(BaseModel):
    """A parcel a warehouse has shipped, as its supplier plugin reports it."""

    model_config = ConfigDict(frozen=True)

    shipment_id: str
    """The warehouse's id for the parcel; unique per supplier instance."""
    po_number: str
    carrier: str
    tracking_number: str
    shipped_at: AwareDatetime
    lines: tuple[ShipmentLine, ...]
    tracking_url: str | None = None


class ShipmentBatch(BaseModel):
    """One poll's worth of shipments plus the cursor to resume from."""

    model_config = ConfigDict(frozen=True)

    shipments: tuple[ShipmentNotice, ...] = ()
    cursor: str | None = None
    state: dict[str, str] | None = None
    """Keys to set in the instance's durable state, committed with the shipments."""
    more: bool = False
    """True when the remote has more past ``cursor``: the core polls again at once."""


class CancelResult(BaseModel):
    """The warehouse's answer to a cancel request: which lines it stopped."""

    model_config = ConfigDict(frozen=True)

    po_number: str
    cancelled: tuple[ShipmentLine, ...]
    """Every unit cancelled on the purchase order so far (per part number), not only by
    the request answered: a repeated request answers the same."""
    message: str = ""


class PurchaseOrder(BaseModel):
    """A purchase order as fbs keeps it."""

    model_config = ConfigDict(frozen=True)

    po_number: str
    supplier: str
    status: PurchaseOrderStatus
    supplier_reference: str | None = None
    lines: tuple[PurchaseOrderLine, ...]
    shipping: Money
    created_at: datetime


class Shipment(BaseModel):
    """A shipment as fbs keeps it, with whether its tracking reached the channel."""

    model_config = ConfigDict(frozen=True)

    shipment_id: str
    po_number: str
    supplier: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: tuple[ShipmentLine, ...]
    tracking_pushed: bool = False
