"""Offers from warehouses and the sourcing plan chosen from them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .money import Money


class Offer(BaseModel):
    """What one warehouse can supply of one part, as its supplier plugin reports it.

    ``core_charge`` is the deposit a remanufactured part carries, kept apart from
    ``unit_cost`` on every money record. ``ship_from_zip`` locates the warehouse.
    """

    model_config = ConfigDict(frozen=True)

    supplier: str
    """The supplier instance name (``[suppliers.<name>]``)."""
    sku: str
    available: int
    unit_cost: Money
    core_charge: Money = Field(default_factory=Money.zero)
    ship_from_zip: str
    weight_grams: int = 1000


class PlanLine(BaseModel):
    """One order line assigned to one warehouse, with the cost we expect to pay."""

    model_config = ConfigDict(frozen=True)

    line_id: str
    sku: str
    quantity: int
    unit_cost: Money
    core_charge: Money
    weight_grams: int = 1000


class PlanLeg(BaseModel):
    """Everything one warehouse ships for an order: one purchase order, one parcel."""

    model_config = ConfigDict(frozen=True)

    supplier: str
    ship_from_zip: str
    lines: tuple[PlanLine, ...]
    shipping: Money
    distance_miles: float | None = None

    @property
    def parts_cost(self) -> Money:
        """Sum of unit cost times quantity over the leg's lines."""
        cents = sum(line.unit_cost.cents * line.quantity for line in self.lines)
        return Money(cents=cents, currency=self.shipping.currency)

    @property
    def core_charges(self) -> Money:
        """Sum of core charges times quantity over the leg's lines."""
        cents = sum(line.core_charge.cents * line.quantity for line in self.lines)
        return Money(cents=cents, currency=self.shipping.currency)

    @property
    def landed_cost(self) -> Money:
        """Parts + cores + estimated shipping: what this leg costs the merchant before tax."""
        return self.parts_cost + self.core_charges + self.shipping


class SourcingPlan(BaseModel):
    """The chosen warehouses for an order, with the numbers that justify the choice."""

    model_config = ConfigDict(frozen=True)

    legs: tuple[PlanLeg, ...]
    tax: Money = Field(default_factory=Money.zero)
    explanation: str = ""
    """A sentence the merchant reads in ``fbs orders show``: why these warehouses."""

    @property
    def currency(self) -> str:
        """The plan's currency (all legs share it)."""
        return self.legs[0].shipping.currency if self.legs else self.tax.currency

    def _sum(self, attr: str) -> Money:
        cents = sum(getattr(leg, attr).cents for leg in self.legs)
        return Money(cents=cents, currency=self.currency)

    @property
    def parts_cost(self) -> Money:
        """Parts over all legs."""
        return self._sum("parts_cost")

    @property
    def core_charges(self) -> Money:
        """Core charges over all legs."""
        return self._sum("core_charges")

    @property
    def shipping(self) -> Money:
        """Estimated shipping over all legs."""
        return self._sum("shipping")

    @property
    def total(self) -> Money:
        """What the merchant's card is charged: parts + cores + shipping + tax."""
        return self.parts_cost + self.core_charges + self.shipping + self.tax


class NoPlan(BaseModel):
    """No acceptable plan exists; ``reason`` is a hold reason code such as ``no_stock``."""

    model_config = ConfigDict(frozen=True)

    reason: str
    message: str
    skus: tuple[str, ...] = ()
