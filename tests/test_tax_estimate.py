from datetime import UTC, datetime
from decimal import Decimal

from fbs_core.domain import (
    Address,
    FulfillmentRules,
    Money,
    Order,
    OrderLine,
    PlanLeg,
    PlanLine,
    SourcingPlan,
)
from fbs_core.sourcing.tax import estimate_tax

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def order_to(region: str | None) -> Order:
    ship_to = None if region is None else Address(region=region, postal_code="78701")
    return Order(
        id=1,
        merchant_id="m1",
        channel="shop",
        external_id="1001",
        status="sourced",
        lines=(OrderLine(line_id="1", sku="ALT-1", quantity=1, unit_price=Money(cents=1)),),
        ship_to=ship_to,
        placed_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def plan(parts_cents: int, core_cents: int = 0, shipping_cents: int = 1500) -> SourcingPlan:
    line = PlanLine(
        line_id="1",
        sku="ALT-1",
        quantity=1,
        unit_cost=Money(cents=parts_cents),
        core_charge=Money(cents=core_cents),
    )
    leg = PlanLeg(
        supplier="east-wh",
        ship_from_zip="07102",
        lines=(line,),
        shipping=Money(cents=shipping_cents),
    )
    return SourcingPlan(legs=(leg,))


TX = FulfillmentRules(tax_rates_percent={"TX": Decimal("8.25")})


def test_rate_applies_to_parts_and_cores_rounded_to_the_cent():
    # (10,000 + 2,345) × 8.25% = 1,018.4625 cents
    assert estimate_tax(order_to("TX"), plan(10_000, 2_345), TX) == Money(cents=1018)


def test_half_a_cent_rounds_up():
    rules = FulfillmentRules(tax_rates_percent={"TX": Decimal("6")})
    # 2,475 × 6% = 148.5 cents: half up gives 149 (banker's rounding would give 148)
    assert estimate_tax(order_to("TX"), plan(2_475), rules) == Money(cents=149)


def test_shipping_is_not_taxed():
    cheap_freight = estimate_tax(order_to("TX"), plan(10_000, shipping_cents=0), TX)
    dear_freight = estimate_tax(order_to("TX"), plan(10_000, shipping_cents=99_999), TX)
    assert cheap_freight == dear_freight == Money(cents=825)


def test_no_rate_for_the_destination_state_is_zero():
    assert estimate_tax(order_to("CA"), plan(10_000), TX) == Money(cents=0)
    assert estimate_tax(order_to("TX"), plan(10_000), FulfillmentRules()) == Money(cents=0)


def test_state_is_matched_whatever_its_spelling():
    lower_config = FulfillmentRules(tax_rates_percent={"tx": Decimal("8.25")})
    assert estimate_tax(order_to(" tx "), plan(10_000), lower_config) == Money(cents=825)
    assert estimate_tax(order_to("Texas"), plan(10_000), TX) == Money(cents=825)


def test_order_without_destination_owes_nothing():
    assert estimate_tax(order_to(None), plan(10_000), TX) == Money(cents=0)


def test_a_zero_rate_is_zero():
    rules = FulfillmentRules(tax_rates_percent={"OR": Decimal("0")})
    assert estimate_tax(order_to("OR"), plan(10_000), rules) == Money(cents=0)
