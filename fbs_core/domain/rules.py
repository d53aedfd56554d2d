"""A store's fulfillment rules: the ``[fulfillment]`` table of ``fbs.toml``."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, field_validator


class Mode(StrEnum):
    """``auto`` sends orders on by itself; ``manual`` holds each until the merchant approves."""

    auto = "auto"
    manual = "manual"


class NoStockPolicy(StrEnum):
    """What to do when no warehouse can fill an order (or a warehouse refuses a PO)."""

    resource = "resource"
    """Try the next-best warehouse; hold only when none is left."""
    hold = "hold"
    """Hold the order for the merchant."""
    cancel = "cancel"
    """Cancel the order, cancel any purchase orders and refund the merchant."""


class FulfillmentRules(BaseModel):
    """Per-store business rules (DESIGN.md section 1). Every field has a safe default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = Mode.auto
    hold_above_cents: NonNegativeInt | None = None
    """Orders whose parts are worth more than this (in cents) wait for manual approval."""
    on_no_stock: NoStockPolicy = NoStockPolicy.resource
    min_stock: NonNegativeInt = 1
    """A warehouse's stock of a part counts only if it holds at least this many."""
    ship_to_territories: bool = False
    """Allow Puerto Rico, Guam, the U.S. Virgin Islands, American Samoa, Northern Marianas."""
    ship_to_military: bool = False
    """Allow APO/FPO/DPO addresses (state codes AA, AE, AP)."""
    price_drift_tolerance_cents: NonNegativeInt = 500
    """How far the landed cost may exceed what the buyer paid before the order is held."""
    price_drift_tolerance_percent: Decimal = Field(default=Decimal("5"), ge=0)
    """Same, as a percentage of what the buyer paid; the larger of the two applies."""
    tax_rates_percent: dict[str, Decimal] = Field(default_factory=dict)
    """Sales tax the merchant owes on purchases, by destination state: ``{ TX = "8.25" }``."""
    max_lines: int = Field(default=250, ge=1)
    ship_by_po_hours: int = Field(default=24, ge=1, le=24 * 30)
    """Warn (``fbs_order_ship_by_at_risk``) when an order with a ship-by date has no
    purchase order this many hours after it arrived."""
    """Orders with more lines than this are rejected as malformed."""
    payment_gateway: str | None = None
    """The ``[payments.<name>]`` instance that charges; required when several are enabled."""

    @field_validator("tax_rates_percent")
    @classmethod
    def _states_upper(cls, rates: dict[str, Decimal]) -> dict[str, Decimal]:
        for state, rate in rates.items():
            if rate < 0 or rate > 100:
                raise ValueError(f"tax rate for {state} must be between 0 and 100, got {rate}")
        return {state.upper(): rate for state, rate in rates.items()}
