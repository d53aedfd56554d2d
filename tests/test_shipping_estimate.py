import math

import pytest

from fbs_core.domain import Address, Money
from fbs_core.errors import ConfigError
from fbs_core.sourcing.shipping import (
    GRAMS_PER_POUND,
    PER_EXTRA_POUND_CENTS,
    RATES_CENTS,
    WEIGHT_BRACKETS_LB,
    ZONE_MAX_MILES,
    ZONES,
    estimate_shipping,
    rate_cents,
    shipping_table_markdown,
    zone_for_distance,
)


def to(zip_code: str | None) -> Address:
    return Address(postal_code=zip_code)


def lb(pounds: float) -> int:
    return math.floor(pounds * GRAMS_PER_POUND)


@pytest.mark.parametrize(
    ("miles", "zone"),
    [(0, 2), (150, 2), (150.5, 3), (300, 3), (601, 5), (1000, 5), (1400, 6), (1800, 7), (1801, 8)],
)
def test_zone_follows_great_circle_miles(miles, zone):
    assert zone_for_distance(miles) == zone


def test_unknown_distance_is_priced_as_the_farthest_zone():
    assert zone_for_distance(None) == 8


def test_weight_rounds_up_to_the_next_bracket():
    assert rate_cents(2, lb(1)) == RATES_CENTS[0][0]
    assert rate_cents(2, lb(1) + 2) == RATES_CENTS[1][0]
    assert rate_cents(5, lb(9.9)) == RATES_CENTS[3][ZONES.index(5)]
    assert rate_cents(8, lb(70)) == RATES_CENTS[-1][-1]


def test_nothing_weighs_less_than_the_lightest_bracket():
    assert rate_cents(4, 0) == rate_cents(4, -5) == rate_cents(4, 1) == RATES_CENTS[0][2]


def test_every_started_pound_over_70_adds_the_zone_surcharge():
    base = RATES_CENTS[-1][ZONES.index(6)]
    assert rate_cents(6, lb(70) + 100) == base + 1 * PER_EXTRA_POUND_CENTS[ZONES.index(6)]
    assert rate_cents(6, lb(75.5)) == base + 6 * PER_EXTRA_POUND_CENTS[ZONES.index(6)]


def test_unknown_zone_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown shipping zone 9"):
        rate_cents(9, 1000)


def test_the_table_is_consistent_farther_and_heavier_never_cost_less():
    assert len(ZONES) == len(ZONE_MAX_MILES) == len(PER_EXTRA_POUND_CENTS)
    assert len(RATES_CENTS) == len(WEIGHT_BRACKETS_LB)
    for row in RATES_CENTS:
        assert len(row) == len(ZONES)
        assert list(row) == sorted(row)
    for column in range(len(ZONES)):
        prices = [row[column] for row in RATES_CENTS]
        assert prices == sorted(prices)


def test_estimate_uses_distance_between_warehouse_and_buyer():
    # Newark to Manhattan is zone 2; Newark to Seattle (about 2,390 mi) is zone 8.
    near = estimate_shipping("07102", to("10001"), 2000)
    far = estimate_shipping("07102", to("98101-2000"), 2000)
    assert near == Money(cents=rate_cents(2, 2000))
    assert far == Money(cents=rate_cents(8, 2000))
    assert near.cents < far.cents


@pytest.mark.parametrize("buyer_zip", [None, "00000", "not-a-zip", "09001"])
def test_estimate_for_unlocatable_buyer_is_the_farthest_zone(buyer_zip):
    assert estimate_shipping("07102", to(buyer_zip), 500).cents == rate_cents(8, 500)


def test_estimate_refuses_a_currency_the_table_is_not_in():
    with pytest.raises(ConfigError, match="in USD and cannot price a parcel in CAD"):
        estimate_shipping("07102", to("10001"), 500, "CAD")


def test_markdown_table_shows_every_zone_and_price():
    table = shipping_table_markdown()
    rows = table.strip().splitlines()
    assert len(rows) == 2 + len(WEIGHT_BRACKETS_LB) + 1
    assert rows[0].startswith("| Weight | Zone 2 (0–150 mi)")
    assert "Zone 8 (> 1800 mi)" in rows[0]
    assert (
        rows[2] == "| up to 1 lb | $10.50 | $11.10 | $11.80 | $12.40 | $13.00 | $13.50 | $14.20 |"
    )
    assert rows[-1].startswith("| each lb over 70 | $0.90 |")
