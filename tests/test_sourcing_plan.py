from datetime import UTC, datetime

import pluggy
import pytest

import fbs_core
from fbs_core.default_plugins import decisions
from fbs_core.domain import (
    Address,
    FulfillmentRules,
    Money,
    NoPlan,
    Offer,
    Order,
    OrderLine,
    SourcingPlan,
)
from fbs_core.hookspecs import FbsSpecs
from fbs_core.sourcing import plan as plan_module
from fbs_core.sourcing.geo import distance_miles
from fbs_core.sourcing.plan import choose_plan
from fbs_core.sourcing.shipping import estimate_shipping, rate_cents

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
NEWARK, CHICAGO, LOS_ANGELES = "07102", "60601", "90001"
RULES = FulfillmentRules()


def buyer(zip_code: str, region: str) -> Address:
    return Address(
        name="Dana Buyer", line1="1 Main St", city="Town", region=region, postal_code=zip_code
    )


AUSTIN = buyer("78701", "TX")
MANHATTAN = buyer("10001", "NY")
SEATTLE = buyer("98101", "WA")


def order(*lines: tuple[str, int], ship_to: Address = MANHATTAN, currency: str = "USD") -> Order:
    return Order(
        id=7,
        merchant_id="m1",
        channel="shop",
        external_id="1001",
        status="approved",
        currency=currency,
        lines=tuple(
            OrderLine(
                line_id=f"L{n}", sku=sku, quantity=qty, unit_price=Money(cents=1, currency=currency)
            )
            for n, (sku, qty) in enumerate(lines, start=1)
        ),
        ship_to=ship_to,
        placed_at=NOW,
        created_at=NOW,
        updated_at=NOW,
    )


def offer(
    supplier: str,
    zip_code: str,
    sku: str,
    cents: int,
    available: int = 10,
    core: int = 0,
    grams: int = 1000,
    currency: str = "USD",
) -> Offer:
    return Offer(
        supplier=supplier,
        sku=sku,
        available=available,
        unit_cost=Money(cents=cents, currency=currency),
        core_charge=Money(cents=core, currency=currency),
        ship_from_zip=zip_code,
        weight_grams=grams,
    )


def flat(origin_zip: str, destination: Address, weight_grams: int, currency: str) -> Money:
    return Money(cents=1000, currency=currency)


def suppliers_of(result: SourcingPlan) -> list[str]:
    return [leg.supplier for leg in result.legs]


# -- one warehouse ---------------------------------------------------------------------------


def test_lowest_landed_cost_wins_even_from_farther_away():
    # A 1 kg part (2.2 lb, the 5 lb bracket) to Manhattan: Newark is zone 2, LA zone 8.
    offers = [
        offer("east-wh", NEWARK, "ALT-1", 10_000),
        offer("west-wh", LOS_ANGELES, "ALT-1", 8_000),
    ]
    result = choose_plan(order(("ALT-1", 1)), offers, RULES, estimate_shipping)
    assert suppliers_of(result) == ["west-wh"]
    (leg,) = result.legs
    assert leg.shipping == Money(cents=rate_cents(8, 1000))
    assert leg.landed_cost.cents == 8_000 + rate_cents(8, 1000)
    assert leg.distance_miles == pytest.approx(distance_miles(LOS_ANGELES, "10001"))
    east_landed = 10_000 + rate_cents(2, 1000)
    assert leg.landed_cost.cents < east_landed
    assert result.explanation == (
        f"west-wh (2,448 mi) ships everything for ${leg.landed_cost.cents / 100:.2f} landed; "
        f"next best east-wh at ${east_landed / 100:.2f}."
    )


def test_shipping_tips_the_balance_to_the_nearer_warehouse():
    offers = [
        offer("east-wh", NEWARK, "ALT-1", 10_000),
        offer("west-wh", LOS_ANGELES, "ALT-1", 9_500),
    ]
    result = choose_plan(order(("ALT-1", 1)), offers, RULES, estimate_shipping)
    assert suppliers_of(result) == ["east-wh"]


def test_equal_landed_cost_goes_to_the_nearest_warehouse():
    offers = [
        offer("alpha-il", CHICAGO, "ALT-1", 5_000),
        offer("zeta-nj", NEWARK, "ALT-1", 5_000),
        offer("beta-ca", LOS_ANGELES, "ALT-1", 5_000),
    ]
    result = choose_plan(order(("ALT-1", 1)), offers, RULES, flat)
    assert suppliers_of(result) == ["zeta-nj"]
    assert result.explanation == (
        "zeta-nj (9 mi) ships everything for $60.00 landed; "
        "next best alpha-il at $60.00, 710 mi away."
    )
    seattle = choose_plan(order(("ALT-1", 1), ship_to=SEATTLE), offers, RULES, flat)
    assert suppliers_of(seattle) == ["beta-ca"]


def test_equal_cost_and_distance_fall_back_to_supplier_name():
    offers = [offer("b-wh", CHICAGO, "ALT-1", 5_000), offer("a-wh", CHICAGO, "ALT-1", 5_000)]
    assert suppliers_of(choose_plan(order(("ALT-1", 1)), offers, RULES, flat)) == ["a-wh"]


def test_core_charge_counts_in_landed_cost_and_stays_separate():
    offers = [
        # 9,000 part + 2,000 core = 11,000 beats 10,500 only if the core is forgotten.
        offer("reman-wh", NEWARK, "ALT-1", 9_000, core=2_000),
        offer("new-wh", NEWARK, "ALT-1", 10_500),
    ]
    result = choose_plan(order(("ALT-1", 2)), offers, RULES, flat)
    assert suppliers_of(result) == ["new-wh"]

    reman_only = choose_plan(order(("ALT-1", 2)), offers[:1], RULES, flat)
    (line,) = reman_only.legs[0].lines
    assert line.unit_cost == Money(cents=9_000)
    assert line.core_charge == Money(cents=2_000)
    assert reman_only.parts_cost == Money(cents=18_000)
    assert reman_only.core_charges == Money(cents=4_000)
    assert reman_only.total == Money(cents=18_000 + 4_000 + 1_000)


def test_whole_order_from_one_warehouse_beats_cheaper_parts_split():
    offers = [
        offer("east-wh", NEWARK, "ALT-1", 10_000),
        offer("east-wh", NEWARK, "PAD-2", 4_000),
        offer("chi-wh", CHICAGO, "ALT-1", 6_000),
        offer("la-wh", LOS_ANGELES, "PAD-2", 2_000),
    ]
    result = choose_plan(order(("ALT-1", 1), ("PAD-2", 1)), offers, RULES, flat)
    assert suppliers_of(result) == ["east-wh"]
    assert [line.sku for line in result.legs[0].lines] == ["ALT-1", "PAD-2"]


def test_one_shipping_estimate_for_the_whole_parcel_weight():
    seen: list[tuple[str, int]] = []

    def recording(origin_zip, destination, weight_grams, currency):
        seen.append((origin_zip, weight_grams))
        return Money(cents=1000, currency=currency)

    offers = [
        offer("east-wh", NEWARK, "ALT-1", 10_000, grams=6_000),
        offer("east-wh", NEWARK, "PAD-2", 4_000, grams=800),
    ]
    choose_plan(order(("ALT-1", 1), ("PAD-2", 4)), offers, RULES, recording)
    assert seen == [(NEWARK, 6_000 + 4 * 800)]


def test_plan_lines_carry_what_the_purchase_order_needs():
    offers = [offer("east-wh", NEWARK, "ALT-1", 10_000, core=1_500, grams=6_000)]
    result = choose_plan(order(("ALT-1", 3)), offers, RULES, estimate_shipping)
    (leg,) = result.legs
    assert leg.supplier == "east-wh"
    assert leg.ship_from_zip == NEWARK
    (line,) = leg.lines
    assert (line.line_id, line.sku, line.quantity, line.weight_grams) == ("L1", "ALT-1", 3, 6_000)
    assert result.tax == Money(cents=0)


def test_only_warehouse_says_nobody_else_could():
    result = choose_plan(order(("ALT-1", 1)), [offer("east-wh", NEWARK, "ALT-1", 100)], RULES, flat)
    assert result.explanation.endswith("no other warehouse can fill the whole order.")


# -- stock and currency ----------------------------------------------------------------------


def test_stock_below_the_minimum_does_not_count():
    offers = [
        offer("near-wh", NEWARK, "ALT-1", 5_000, available=2),
        offer("far-wh", LOS_ANGELES, "ALT-1", 7_000, available=3),
    ]
    rules = FulfillmentRules(min_stock=3)
    assert suppliers_of(choose_plan(order(("ALT-1", 1)), offers, rules, flat)) == ["far-wh"]
    assert suppliers_of(choose_plan(order(("ALT-1", 1)), offers, RULES, flat)) == ["near-wh"]


def test_stock_must_cover_the_quantity():
    offers = [
        offer("near-wh", NEWARK, "ALT-1", 5_000, available=2),
        offer("far-wh", LOS_ANGELES, "ALT-1", 7_000, available=3),
    ]
    assert suppliers_of(choose_plan(order(("ALT-1", 3)), offers, RULES, flat)) == ["far-wh"]


def test_repeated_sku_lines_need_their_combined_quantity_in_one_warehouse():
    offers = [
        offer("small-wh", NEWARK, "ALT-1", 5_000, available=3),
        offer("big-wh", CHICAGO, "ALT-1", 5_000, available=4),
    ]
    result = choose_plan(order(("ALT-1", 2), ("ALT-1", 2)), offers, RULES, flat)
    assert suppliers_of(result) == ["big-wh"]
    assert [(line.line_id, line.quantity) for line in result.legs[0].lines] == [
        ("L1", 2),
        ("L2", 2),
    ]


def test_offers_in_another_currency_are_not_usable():
    offers = [
        offer("cad-wh", NEWARK, "ALT-1", 1_000, currency="CAD"),
        offer("usd-wh", CHICAGO, "ALT-1", 9_000),
    ]
    assert suppliers_of(choose_plan(order(("ALT-1", 1)), offers, RULES, flat)) == ["usd-wh"]
    only_cad = choose_plan(order(("ALT-1", 1)), offers[:1], RULES, flat)
    assert only_cad == NoPlan(
        reason="no_stock", message="No warehouse offers ALT-1 in USD.", skus=("ALT-1",)
    )


def test_the_cheapest_of_a_warehouses_duplicate_offers_is_used():
    offers = [offer("east-wh", NEWARK, "ALT-1", 7_000), offer("east-wh", NEWARK, "ALT-1", 6_000)]
    result = choose_plan(order(("ALT-1", 1)), offers, RULES, flat)
    assert result.legs[0].lines[0].unit_cost == Money(cents=6_000)


# -- no plan ---------------------------------------------------------------------------------


def test_sku_nobody_carries_is_unknown():
    offers = [offer("east-wh", NEWARK, "ALT-1", 5_000)]
    result = choose_plan(order(("ALT-1", 1), ("ABC-123", 1)), offers, RULES, flat)
    assert result == NoPlan(
        reason="unknown_sku", message="No warehouse carries part ABC-123.", skus=("ABC-123",)
    )


def test_several_unknown_skus_are_all_named():
    result = choose_plan(order(("ABC-123", 1), ("XYZ-9", 1)), [], RULES, flat)
    assert result.reason == "unknown_sku"
    assert result.message == "No warehouse carries parts ABC-123, XYZ-9."
    assert result.skus == ("ABC-123", "XYZ-9")


def test_sku_carried_but_short_is_no_stock():
    offers = [offer("east-wh", NEWARK, "ABC-123", 5_000, available=2)]
    rules = FulfillmentRules(min_stock=2)
    result = choose_plan(order(("ABC-123", 3)), offers, rules, flat)
    assert result == NoPlan(
        reason="no_stock",
        message="No warehouse has 3 of ABC-123 in stock (minimum stock 2).",
        skus=("ABC-123",),
    )


def test_unknown_sku_is_reported_before_short_stock():
    offers = [offer("east-wh", NEWARK, "ALT-1", 5_000, available=0)]
    result = choose_plan(order(("ALT-1", 1), ("ABC-123", 1)), offers, RULES, flat)
    assert result.reason == "unknown_sku"
    assert result.skus == ("ABC-123",)


def test_lines_without_quantity_are_skipped_and_never_crash():
    offers = [offer("east-wh", NEWARK, "ALT-1", 5_000)]
    result = choose_plan(order(("ALT-1", 1), ("PAD-2", 0), ("ROT-3", -1)), offers, RULES, flat)
    assert [line.sku for leg in result.legs for line in leg.lines] == ["ALT-1"]
    nothing = choose_plan(order(("ALT-1", 0)), offers, RULES, flat)
    assert isinstance(nothing, NoPlan)
    assert nothing.reason == "no_lines"


def test_missing_destination_does_not_crash():
    offers = [offer("east-wh", NEWARK, "ALT-1", 5_000)]
    result = choose_plan(order(("ALT-1", 1), ship_to=None), offers, RULES, estimate_shipping)
    assert result.legs[0].distance_miles is None
    assert result.legs[0].shipping == Money(cents=rate_cents(8, 1000))


# -- splits ----------------------------------------------------------------------------------


def test_split_when_no_single_warehouse_has_everything():
    offers = [
        offer("east-wh", NEWARK, "ALT-1", 10_000),
        offer("west-wh", LOS_ANGELES, "PAD-2", 4_000),
    ]
    result = choose_plan(order(("ALT-1", 1), ("PAD-2", 2)), offers, RULES, estimate_shipping)
    assert suppliers_of(result) == ["east-wh", "west-wh"]
    east, west = result.legs
    assert [line.sku for line in east.lines] == ["ALT-1"]
    assert [line.sku for line in west.lines] == ["PAD-2"]
    # One estimate per leg, each with that leg's own weight.
    assert east.shipping == Money(cents=rate_cents(2, 1000))
    assert west.shipping == Money(cents=rate_cents(8, 2000))
    landed = 10_000 + 8_000 + east.shipping.cents + west.shipping.cents
    assert result.explanation == (
        f"Split across 2 warehouses (east-wh, west-wh) for ${landed / 100:.2f} landed: "
        "no single warehouse stocks every part."
    )


def test_split_uses_the_fewest_warehouses_even_when_more_would_be_cheaper():
    offers = [
        offer("combo-wh", NEWARK, "ALT-1", 20_000),
        offer("combo-wh", NEWARK, "PAD-2", 20_000),
        offer("rotor-wh", CHICAGO, "ROT-3", 3_000),
        offer("cheap-alt", CHICAGO, "ALT-1", 1_000),
        offer("cheap-pad", CHICAGO, "PAD-2", 1_000),
    ]
    result = choose_plan(order(("ALT-1", 1), ("PAD-2", 1), ("ROT-3", 1)), offers, RULES, flat)
    assert sorted(suppliers_of(result)) == ["combo-wh", "rotor-wh"]


def test_among_equally_small_splits_the_cheapest_wins():
    offers = [
        offer("a-wh", NEWARK, "ALT-1", 5_000),
        offer("b-wh", NEWARK, "PAD-2", 5_000),
        offer("c-wh", CHICAGO, "ALT-1", 4_000),
    ]
    result = choose_plan(order(("ALT-1", 1), ("PAD-2", 1)), offers, RULES, flat)
    assert sorted(suppliers_of(result)) == ["b-wh", "c-wh"]
    assert result.parts_cost == Money(cents=9_000)
    assert result.shipping == Money(cents=2_000)


def test_each_line_goes_to_the_cheaper_warehouse_of_the_chosen_pair():
    offers = [
        offer("east-wh", NEWARK, "ALT-1", 5_000),
        offer("east-wh", NEWARK, "PAD-2", 3_000),
        offer("west-wh", LOS_ANGELES, "PAD-2", 2_000),
        offer("west-wh", LOS_ANGELES, "ROT-3", 2_000),
    ]
    result = choose_plan(order(("ALT-1", 1), ("PAD-2", 1), ("ROT-3", 1)), offers, RULES, flat)
    by_supplier = {leg.supplier: [line.sku for line in leg.lines] for leg in result.legs}
    assert by_supplier == {"east-wh": ["ALT-1"], "west-wh": ["PAD-2", "ROT-3"]}


def test_equally_cheap_splits_go_to_the_nearer_warehouses():
    offers = [
        offer("la-wh", LOS_ANGELES, "ALT-1", 5_000),
        offer("nj-wh", NEWARK, "ALT-1", 5_000),
        offer("il-wh", CHICAGO, "PAD-2", 5_000),
    ]
    to_ny = choose_plan(order(("ALT-1", 1), ("PAD-2", 1)), offers, RULES, flat)
    assert sorted(suppliers_of(to_ny)) == ["il-wh", "nj-wh"]
    to_wa = choose_plan(order(("ALT-1", 1), ("PAD-2", 1), ship_to=SEATTLE), offers, RULES, flat)
    assert sorted(suppliers_of(to_wa)) == ["il-wh", "la-wh"]


def test_twelve_way_split_is_still_searched_exactly():
    skus = [f"P-{n}" for n in range(12)]
    offers = [offer(f"wh-{n:02d}", CHICAGO, sku, 1_000) for n, sku in enumerate(skus)]
    result = choose_plan(order(*((sku, 1) for sku in skus)), offers, RULES, flat)
    assert len(result.legs) == 12
    assert "greedily" not in result.explanation


def test_huge_splits_fall_back_to_greedy_cover(monkeypatch):
    monkeypatch.setattr(plan_module, "MAX_SPLIT_COMBINATIONS", 5)
    offers = [
        offer("big-wh", NEWARK, "A", 1_000),
        offer("big-wh", NEWARK, "B", 1_000),
        offer("big-wh", NEWARK, "C", 1_000),
        offer("small-wh", CHICAGO, "A", 500),
        offer("d-wh", CHICAGO, "D", 1_000),
        offer("e-wh", CHICAGO, "E", 1_000),
    ]
    skus = ["A", "B", "C", "D", "E"]
    result = choose_plan(order(*((sku, 1) for sku in skus)), offers, RULES, flat)
    # Greedy takes big-wh first (3 parts), then d-wh and e-wh; small-wh is never needed.
    assert suppliers_of(result) == ["big-wh", "d-wh", "e-wh"]
    assert sorted(line.sku for leg in result.legs for line in leg.lines) == skus
    assert result.explanation.endswith("so they were chosen greedily.")


def test_many_warehouses_and_lines_stay_bounded():
    # 16 single-part warehouses: an exact search would examine 65,535 sets.
    skus = [f"P-{n}" for n in range(16)]
    offers = [offer(f"wh-{n:02d}", CHICAGO, sku, 1_000) for n, sku in enumerate(skus)]
    result = choose_plan(order(*((sku, 1) for sku in skus)), offers, RULES, flat)
    assert len(result.legs) == 16
    assert "greedily" in result.explanation


# -- through pluggy --------------------------------------------------------------------------


@pytest.fixture
def pm() -> pluggy.PluginManager:
    manager = pluggy.PluginManager("fbs")
    manager.add_hookspecs(FbsSpecs)
    manager.register(decisions, name="fbs_core.default_plugins.decisions")
    return manager


def hook_estimator(pm: pluggy.PluginManager):
    def estimate(origin_zip, destination, weight_grams, currency):
        return pm.hook.fbs_shipping_estimate(
            origin_zip=origin_zip,
            destination=destination,
            weight_grams=weight_grams,
            currency=currency,
        )

    return estimate


def test_default_plugin_answers_the_decision_hooks(pm):
    the_order = order(("ALT-1", 1), ship_to=AUSTIN)
    offers = [offer("east-wh", NEWARK, "ALT-1", 10_000), offer("chi-wh", CHICAGO, "ALT-1", 10_000)]
    planned = pm.hook.fbs_sourcing_plan(
        order=the_order, offers=offers, rules=RULES, estimate_shipping=hook_estimator(pm)
    )
    assert planned == choose_plan(the_order, offers, RULES, estimate_shipping)
    assert suppliers_of(planned) == ["chi-wh"]

    rules = FulfillmentRules(tax_rates_percent={"TX": "8.25"})
    assert pm.hook.fbs_tax_estimate(order=the_order, plan=planned, rules=rules) == Money(cents=825)


def test_a_plugin_answer_wins_over_the_trylast_default(pm):
    class OwnFleet:
        @fbs_core.hookimpl
        def fbs_shipping_estimate(self, origin_zip, destination, weight_grams, currency):
            return Money(cents=0, currency=currency) if origin_zip == LOS_ANGELES else None

        @fbs_core.hookimpl
        def fbs_sourcing_plan(self, order, offers, rules, estimate_shipping):
            if any(line.sku == "EMBARGOED" for line in order.lines):
                return NoPlan(reason="no_stock", message="Not sold here.")
            return None

    pm.register(OwnFleet(), name="own-fleet")
    offers = [
        offer("east-wh", NEWARK, "ALT-1", 5_000),
        offer("west-wh", LOS_ANGELES, "ALT-1", 5_000),
    ]
    # The default planner runs (the plugin deferred), pricing shipping through the plugin.
    planned = pm.hook.fbs_sourcing_plan(
        order=order(("ALT-1", 1)), offers=offers, rules=RULES, estimate_shipping=hook_estimator(pm)
    )
    assert suppliers_of(planned) == ["west-wh"]
    assert planned.shipping == Money(cents=0)

    refused = pm.hook.fbs_sourcing_plan(
        order=order(("EMBARGOED", 1)), offers=offers, rules=RULES, estimate_shipping=flat
    )
    assert refused == NoPlan(reason="no_stock", message="Not sold here.")


def test_long_splits_name_the_first_warehouses_only():
    skus = [f"P-{n}" for n in range(6)]
    offers = [offer(f"wh-{n}", CHICAGO, sku, 1_000) for n, sku in enumerate(skus)]
    result = choose_plan(order(*((sku, 1) for sku in skus)), offers, RULES, flat)
    assert result.explanation.startswith(
        "Split across 6 warehouses (wh-0, wh-1, wh-2, wh-3 and 2 more) for $120.00 landed"
    )
