"""The core's default shipping estimate: a ground-parcel rate table by zone and weight.

Carriers price ground parcels by *zone* (how far the parcel travels) and billed weight.
fbs does not know a warehouse's negotiated rates, so it estimates with a table shaped like
published US ground-parcel retail rates and shown to merchants in README.md. A supplier
plugin or a merchant's own plugin that knows better implements ``fbs_shipping_estimate``.

* **Zone** comes from the great-circle distance between the warehouse ZIP and the buyer's
  ZIP (:data:`ZONE_MAX_MILES`); an unknown distance (missing or unknown ZIP, military ZIPs)
  is priced as the farthest zone, so an estimate never comes out too low for that reason.
* **Weight** is rounded up to the next bracket in :data:`WEIGHT_BRACKETS_LB`; above the
  last bracket every started pound adds :data:`PER_EXTRA_POUND_CENTS` of its zone.
"""

from __future__ import annotations

import math

from ..domain import Address, Money
from ..errors import ConfigError
from .geo import distance_miles

TABLE_CURRENCY = "USD"
"""The currency the rate table is written in."""

GRAMS_PER_POUND = 453.59237

ZONES: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8)
"""Carrier-style ground zones, nearest first."""

ZONE_MAX_MILES: tuple[float, ...] = (150, 300, 600, 1000, 1400, 1800, math.inf)
"""Upper distance bound (inclusive, great-circle miles) of each zone in :data:`ZONES`."""

WEIGHT_BRACKETS_LB: tuple[int, ...] = (1, 2, 5, 10, 20, 50, 70)
"""Upper weight bound (inclusive, pounds) of each row of :data:`RATES_CENTS`."""

RATES_CENTS: tuple[tuple[int, ...], ...] = (
    # zone:  2      3      4      5      6      7      8
    (1050, 1110, 1180, 1240, 1300, 1350, 1420),  # up to 1 lb
    (1150, 1230, 1330, 1420, 1520, 1600, 1700),  # up to 2 lb
    (1400, 1530, 1720, 1900, 2100, 2300, 2550),  # up to 5 lb
    (1700, 1950, 2300, 2700, 3150, 3550, 4000),  # up to 10 lb
    (2300, 2750, 3400, 4150, 4950, 5650, 6300),  # up to 20 lb
    (4500, 5300, 6700, 8200, 9900, 11400, 13000),  # up to 50 lb
    (6000, 7100, 9000, 11000, 13300, 15300, 17500),  # up to 70 lb
)
"""Ground-parcel price in cents: one row per weight bracket, one column per zone."""

PER_EXTRA_POUND_CENTS: tuple[int, ...] = (90, 105, 135, 165, 200, 230, 260)
"""Added per started pound above the heaviest bracket, by zone (freight-size parts)."""


def zone_for_distance(miles: float | None) -> int:
    """Return the ground zone for a great-circle distance; None means the farthest zone."""
    if miles is None:
        return ZONES[-1]
    for zone, limit in zip(ZONES, ZONE_MAX_MILES, strict=True):
        if miles <= limit:
            return zone
    return ZONES[-1]


def rate_cents(zone: int, weight_grams: int) -> int:
    """Return the table price in cents of one parcel of ``weight_grams`` in ``zone``.

    A weight of zero or less is billed as the lightest bracket (carriers bill at least
    one pound).

    Raises:
        ValueError: ``zone`` is not one of :data:`ZONES`.
    """
    if zone not in ZONES:
        raise ValueError(f"unknown shipping zone {zone}; zones are {ZONES[0]}-{ZONES[-1]}")
    column = ZONES.index(zone)
    pounds = max(weight_grams, 0) / GRAMS_PER_POUND
    for bracket, row in zip(WEIGHT_BRACKETS_LB, RATES_CENTS, strict=True):
        if pounds <= bracket:
            return row[column]
    extra_pounds = math.ceil(pounds - WEIGHT_BRACKETS_LB[-1])
    return RATES_CENTS[-1][column] + extra_pounds * PER_EXTRA_POUND_CENTS[column]


def estimate_shipping(
    origin_zip: str, destination: Address, weight_grams: int, currency: str = "USD"
) -> Money:
    """Estimate what a warehouse at ``origin_zip`` charges to ship one parcel to ``destination``.

    Args:
        origin_zip: the warehouse's ZIP (ZIP+4 accepted).
        destination: the buyer's address; only its ``postal_code`` is used.
        weight_grams: the parcel's total weight.
        currency: the order's currency; the table is in USD.

    Returns:
        The table price for the zone of the distance and the parcel's weight bracket.

    Raises:
        ConfigError: ``currency`` is not USD: the default table cannot price it, and a
            shipping-estimate plugin for that currency is needed.
    """
    if currency.upper() != TABLE_CURRENCY:
        raise ConfigError(
            f"The built-in shipping table is in {TABLE_CURRENCY} and cannot price a parcel "
            f"in {currency}; install a plugin that implements fbs_shipping_estimate."
        )
    zone = zone_for_distance(distance_miles(origin_zip, destination.postal_code))
    return Money(cents=rate_cents(zone, weight_grams), currency=TABLE_CURRENCY)


def _dollars(cents: int) -> str:
    return f"${cents // 100}.{cents % 100:02d}"


def shipping_table_markdown() -> str:
    """Render the rate table as a Markdown table for README.md and ``fbs`` help output."""
    lower = 0.0
    headers = ["Weight"]
    for zone, limit in zip(ZONES, ZONE_MAX_MILES, strict=True):
        span = f"> {lower:.0f} mi" if math.isinf(limit) else f"{lower:.0f}–{limit:.0f} mi"
        headers.append(f"Zone {zone} ({span})")
        lower = limit
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(["---"] + ["--:"] * len(ZONES)) + "|",
    ]
    for bracket, row in zip(WEIGHT_BRACKETS_LB, RATES_CENTS, strict=True):
        cells = [f"up to {bracket} lb", *(_dollars(cents) for cents in row)]
        lines.append("| " + " | ".join(cells) + " |")
    extra = [
        f"each lb over {WEIGHT_BRACKETS_LB[-1]}",
        *(_dollars(c) for c in PER_EXTRA_POUND_CENTS),
    ]
    lines.append("| " + " | ".join(extra) + " |")
    return "\n".join(lines) + "\n"
