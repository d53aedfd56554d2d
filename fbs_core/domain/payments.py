"""Charges of the merchant's card and refunds of them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .money import Money


class ChargeBreakdown(BaseModel):
    """The parts of a charge, each traceable to the order's plan."""

    model_config = ConfigDict(frozen=True)

    parts: Money
    core_charges: Money
    shipping: Money
    tax: Money


class ChargeRequest(BaseModel):
    """Charge the merchant's card on file, once.

    The gateway must send ``idempotency_key`` to its service so a retried call after a
    crash returns the first result instead of charging again.
    """

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    order_id: int
    order_reference: str
    amount: Money
    breakdown: ChargeBreakdown
    description: str = ""
    metadata: dict[str, str] = Field(default_factory=dict)


class ChargeResult(BaseModel):
    """A successful charge: the gateway's reference and the amount actually taken."""

    model_config = ConfigDict(frozen=True)

    reference: str
    amount: Money


class RefundRequest(BaseModel):
    """Give money back on an earlier charge, once per ``idempotency_key``."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    order_id: int
    charge_reference: str
    amount: Money
    reason: str = ""
    metadata: dict[str, str] = Field(default_factory=dict)


class RefundResult(BaseModel):
    """A refund the gateway accepted."""

    model_config = ConfigDict(frozen=True)

    reference: str
    amount: Money


class Charge(BaseModel):
    """A charge as fbs keeps it."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    gateway: str
    status: str
    amount: Money
    breakdown: ChargeBreakdown
    reference: str | None = None
    refunded: Money
    created_at: datetime
