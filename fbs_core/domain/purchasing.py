"""Purchase orders sent to warehouses, and the shipments that come back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict

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


class PurchaseOrderLine(BaseModel):
    """One part on a purchase order, at the cost fbs expects to pay."""

    model_config = ConfigDict(frozen=True)

    sku: str
    quantity: int
    unit_cost: Money
    core_charge: Money


class PurchaseOrderRequest(BaseModel):
    """What fbs asks a warehouse to ship. ``po_number`` is fbs's id and the idempotency key.

    A supplier plugin must make placing the same ``po_number`` twice harmless: the warehouse
    either deduplicates on it or the plugin checks before placing.
    """

    model_config = ConfigDict(frozen=True)

    po_number: str
    supplier: str
    ship_to: Address
    lines: tuple[PurchaseOrderLine, ...]
    order_reference: str
    """The merchant-facing order number, for the packing slip."""


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


class CancelResult(BaseModel):
    """The warehouse's answer to a cancel request: which lines it stopped."""

    model_config = ConfigDict(frozen=True)

    po_number: str
    cancelled: tuple[ShipmentLine, ...]
    """Lines (and quantities) that will not ship; empty if it was too late."""
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
