"""The core's default tax estimate: the store's configured rate for the destination state.

Whether a merchant owes sales tax on a drop-shipped purchase depends on their resale
certificates and nexus, which fbs cannot know; so the default taxes nothing unless the
merchant configured ``[fulfillment] tax_rates_percent`` for the buyer's state. Shipping is
never taxed here: most states exempt separately stated delivery charges.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ..domain import FulfillmentRules, Money, Order, SourcingPlan
from .destinations import normalize_region


def tax_rate_percent(order: Order, rules: FulfillmentRules) -> Decimal | None:
    """Return the configured tax rate for the order's destination state, or None."""
    state = normalize_region(order.ship_to.region if order.ship_to else None)
    if state is None:
        return None
    return rules.tax_rates_percent.get(state)


def estimate_tax(order: Order, plan: SourcingPlan, rules: FulfillmentRules) -> Money:
    """Estimate the tax the merchant owes on a plan's parts and core charges.

    Returns:
        ``(parts + cores) × rate / 100`` rounded half up to the cent, in the plan's
        currency; zero when no rate is configured for the destination state.
    """
    rate = tax_rate_percent(order, rules)
    if not rate:
        return Money.zero(plan.currency)
    base = plan.parts_cost.cents + plan.core_charges.cents
    cents = (Decimal(base) * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Money(cents=int(cents), currency=plan.currency)
