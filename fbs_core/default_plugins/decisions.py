"""The core's default answers to the decision hooks (sourcing plan, shipping, tax)."""

from __future__ import annotations

from collections.abc import Sequence

import fbs_core

from ..domain import Address, FulfillmentRules, Money, NoPlan, Offer, Order, SourcingPlan
from ..hookspecs import ShippingEstimator
from ..sourcing.plan import choose_plan
from ..sourcing.shipping import estimate_shipping
from ..sourcing.tax import estimate_tax


@fbs_core.hookimpl(trylast=True)
def fbs_sourcing_plan(
    order: Order,
    offers: Sequence[Offer],
    rules: FulfillmentRules,
    estimate_shipping: ShippingEstimator,
) -> SourcingPlan | NoPlan:
    """Plan with :func:`fbs_core.sourcing.plan.choose_plan`: one warehouse, else fewest."""
    return choose_plan(order, offers, rules, estimate_shipping)


@fbs_core.hookimpl(trylast=True)
def fbs_shipping_estimate(
    origin_zip: str, destination: Address, weight_grams: int, currency: str
) -> Money:
    """Estimate with the zone-and-weight table of :mod:`fbs_core.sourcing.shipping`."""
    return estimate_shipping(origin_zip, destination, weight_grams, currency)


@fbs_core.hookimpl(trylast=True)
def fbs_tax_estimate(order: Order, plan: SourcingPlan, rules: FulfillmentRules) -> Money:
    """Apply ``[fulfillment] tax_rates_percent`` for the destination state to parts and cores."""
    return estimate_tax(order, plan, rules)
