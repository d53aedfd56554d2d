"""Read models: everything the merchant sees about one order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from .orders import Order, TimelineEvent


class PlanView(BaseModel):
    """A stored sourcing plan with its money columns."""

    model_config = ConfigDict(frozen=True)

    generation: int
    active: bool
    currency: str
    parts_cents: int
    core_charges_cents: int
    shipping_cents: int
    tax_cents: int
    total_cents: int
    explanation: str
    legs: list[dict[str, Any]]


class ChargeView(BaseModel):
    """A charge of the merchant's card."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    gateway: str
    status: str
    currency: str
    amount_cents: int
    parts_cents: int
    core_charges_cents: int
    shipping_cents: int
    tax_cents: int
    refunded_cents: int
    reference: str | None
    error: str | None


class RefundView(BaseModel):
    """A refund to the merchant's card."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    status: str
    currency: str
    amount_cents: int
    core_charges_cents: int
    reason: str
    reference: str | None


class PurchaseOrderView(BaseModel):
    """A purchase order with its lines."""

    model_config = ConfigDict(frozen=True)

    po_number: str
    supplier: str
    status: str
    supplier_reference: str | None
    currency: str
    shipping_cents: int
    tax_cents: int
    lines: list[dict[str, Any]]
    error: str | None


class ShipmentView(BaseModel):
    """A parcel and whether its tracking reached the channel."""

    model_config = ConfigDict(frozen=True)

    shipment_id: str
    po_number: str
    supplier: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: list[dict[str, Any]]
    tracking_pushed: bool


class CommandView(BaseModel):
    """An outbound side effect and how far it got."""

    model_config = ConfigDict(frozen=True)

    kind: str
    target: str
    idempotency_key: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


class OrderDetail(BaseModel):
    """One order with its plan, money, purchase orders, shipments and full timeline."""

    model_config = ConfigDict(frozen=True)

    order: Order
    plans: list[PlanView]
    charges: list[ChargeView]
    refunds: list[RefundView]
    purchase_orders: list[PurchaseOrderView]
    shipments: list[ShipmentView]
    commands: list[CommandView]
    timeline: list[TimelineEvent]
