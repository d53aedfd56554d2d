"""What ``fbs demo`` sells and to whom: a parts catalogue, three warehouses and buyers.

Everything here is plain data plus one seeded generator, so a demo run with the same seed
creates the same orders. Prices are integer cents. The warehouses stock overlapping parts
at slightly different costs, so the sourcing plan has a real choice to make: the landed
cost (part + core + shipping estimate) usually favours the warehouse nearest the buyer,
but not always.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from fbs_core.sourcing.shipping import rate_cents

from .warehouse import StockItem


@dataclass(frozen=True)
class Part:
    """One part the merchant sells."""

    sku: str
    name: str
    cost_cents: int
    """What a warehouse charges for one, before its own adjustment."""
    weight_grams: int
    core_charge_cents: int = 0
    """Deposit on the old unit of a remanufactured part, refunded when it goes back."""
    quantities: tuple[int, ...] = (1,)
    """How many of it one buyer typically orders."""

    @property
    def retail_cents(self) -> int:
        """What the buyer pays the merchant per unit: a 60% mark-up plus the core."""
        return round(self.cost_cents * 1.6 / 10) * 10 - 1 + self.core_charge_cents


CATALOG: tuple[Part, ...] = (
    Part("BP-D1210C", "Ceramic front brake pad set (D1210)", 2850, 1900, quantities=(1, 1, 2)),
    Part("BR-54097", "Vented front brake rotor, 300 mm", 4260, 5400, quantities=(1, 2)),
    Part(
        "ALT-13874R",
        "Remanufactured alternator, 130 A",
        12400,
        6100,
        core_charge_cents=4500,
    ),
    Part("OF-PH7317", "Spin-on oil filter (PH7317)", 520, 350, quantities=(1, 2, 3)),
    Part("AF-CA10171", "Engine air filter (CA10171)", 1140, 600, quantities=(1,)),
    Part("CF-CF10285", "Cabin air filter with carbon (CF10285)", 930, 300, quantities=(1, 2)),
    Part("SP-ILTR5A13G", "Iridium spark plug (ILTR5A-13G)", 780, 60, quantities=(4, 6, 8)),
    Part("WB-22A", "22 in beam wiper blade", 1190, 400, quantities=(1, 2)),
    Part("WP-AW9412", "Water pump with gasket (AW9412)", 3980, 2400),
    Part("SB-K060882", "Serpentine belt, 6-rib 88 in", 1750, 450),
    Part("ST-171727", "Front strut assembly, complete", 7850, 7300, quantities=(1, 2)),
    Part("IC-UF314", "Ignition coil (UF314)", 2490, 500, quantities=(1, 2, 4)),
)
PARTS = {part.sku: part for part in CATALOG}
CORE_PART = "ALT-13874R"
UNKNOWN_PART = Part("BP-D9999X", "Brake pad set, discontinued (D9999)", 2850, 1900)
"""A part number no warehouse carries: orders with it are held ``unknown_sku``."""


@dataclass(frozen=True)
class WarehouseSpec:
    """One warehouse of the demo: where it ships from and what it stocks at what cost."""

    name: str
    label: str
    ship_from_zip: str
    cost_adjust_cents: dict[str, int] = field(default_factory=dict)
    """Per-SKU difference from the catalogue cost; a SKU listed in ``missing`` is not stocked."""
    missing: frozenset[str] = frozenset()
    units: int = 2000

    def stock(self) -> dict[str, StockItem]:
        """What the warehouse imitation starts with."""
        return {
            part.sku: StockItem(
                quantity=self.units,
                unit_cost_cents=part.cost_cents + self.cost_adjust_cents.get(part.sku, 0),
                core_charge_cents=part.core_charge_cents,
                weight_grams=part.weight_grams,
            )
            for part in CATALOG
            if part.sku not in self.missing
        }


WAREHOUSES: tuple[WarehouseSpec, ...] = (
    WarehouseSpec(
        "east",
        "Newark, NJ",
        "07102",
        {"BP-D1210C": -120, "OF-PH7317": 15, "SP-ILTR5A13G": -20, "ST-171727": 250},
        missing=frozenset({CORE_PART}),
    ),
    WarehouseSpec(
        "central",
        "Dallas, TX",
        "75201",
        {"BR-54097": -180, "ALT-13874R": -300, "WP-AW9412": -150, "AF-CA10171": 40},
    ),
    WarehouseSpec(
        "west",
        "Reno, NV",
        "89502",
        {"IC-UF314": -90, "CF-CF10285": -25, "BP-D1210C": 60, "ALT-13874R": 200},
        missing=frozenset({"ST-171727"}),
    ),
)


@dataclass(frozen=True)
class Place:
    """A real US street area: the ZIP agrees with the state in the ZIP database."""

    city: str
    state: str
    postcode: str
    streets: tuple[str, ...]


PLACES: tuple[Place, ...] = (
    Place("Los Angeles", "CA", "90012", ("W 1st St", "N Spring St", "S Broadway")),
    Place("San Diego", "CA", "92101", ("Market St", "India St", "Broadway")),
    Place("San Francisco", "CA", "94103", ("Mission St", "Howard St", "Folsom St")),
    Place("Sacramento", "CA", "95814", ("J St", "Capitol Mall", "K St")),
    Place("Seattle", "WA", "98101", ("Pine St", "Pike St", "4th Ave")),
    Place("Spokane", "WA", "99201", ("W Riverside Ave", "W Main Ave")),
    Place("Portland", "OR", "97205", ("SW Alder St", "SW Morrison St")),
    Place("Phoenix", "AZ", "85004", ("E Van Buren St", "N Central Ave")),
    Place("Tucson", "AZ", "85701", ("E Congress St", "N Stone Ave")),
    Place("Las Vegas", "NV", "89101", ("Fremont St", "S Las Vegas Blvd")),
    Place("Salt Lake City", "UT", "84111", ("S State St", "E 400 S")),
    Place("Boise", "ID", "83702", ("W Main St", "W Idaho St")),
    Place("Denver", "CO", "80202", ("Larimer St", "17th St", "Wazee St")),
    Place("Albuquerque", "NM", "87102", ("Central Ave SW", "Gold Ave SW")),
    Place("Houston", "TX", "77002", ("Main St", "Travis St", "Louisiana St")),
    Place("Austin", "TX", "78701", ("Congress Ave", "W 6th St", "Lavaca St")),
    Place("Oklahoma City", "OK", "73102", ("N Robinson Ave", "W Main St")),
    Place("Kansas City", "MO", "64106", ("Grand Blvd", "E 12th St")),
    Place("St. Louis", "MO", "63101", ("Washington Ave", "Olive St")),
    Place("Omaha", "NE", "68102", ("Farnam St", "Dodge St")),
    Place("New Orleans", "LA", "70112", ("Canal St", "Baronne St")),
    Place("Memphis", "TN", "38103", ("Beale St", "S Main St")),
    Place("Nashville", "TN", "37203", ("Broadway", "Demonbreun St")),
    Place("Minneapolis", "MN", "55401", ("Hennepin Ave", "Nicollet Mall")),
    Place("Chicago", "IL", "60601", ("N Michigan Ave", "E Randolph St", "N State St")),
    Place("Indianapolis", "IN", "46204", ("N Meridian St", "E Market St")),
    Place("Detroit", "MI", "48226", ("Woodward Ave", "Griswold St")),
    Place("Columbus", "OH", "43215", ("N High St", "E Broad St")),
    Place("Cleveland", "OH", "44113", ("W 25th St", "Lorain Ave")),
    Place("Pittsburgh", "PA", "15222", ("Liberty Ave", "Penn Ave")),
    Place("Philadelphia", "PA", "19107", ("Chestnut St", "Walnut St", "Arch St")),
    Place("New York", "NY", "10001", ("W 34th St", "8th Ave", "W 29th St")),
    Place("Boston", "MA", "02108", ("Tremont St", "Beacon St")),
    Place("Baltimore", "MD", "21202", ("N Charles St", "E Baltimore St")),
    Place("Washington", "DC", "20001", ("K St NW", "H St NW", "7th St NW")),
    Place("Richmond", "VA", "23219", ("E Main St", "E Broad St")),
    Place("Charlotte", "NC", "28202", ("S Tryon St", "N College St")),
    Place("Atlanta", "GA", "30303", ("Peachtree St NE", "Marietta St NW")),
    Place("Miami", "FL", "33130", ("SW 8th St", "Brickell Ave")),
)

FIRST_NAMES = (
    "James", "Maria", "Robert", "Linda", "Michael", "Patricia", "David", "Jennifer",
    "Carlos", "Aisha", "Wei", "Emily", "Daniel", "Sofia", "Kevin", "Grace", "Luis",
    "Hannah", "Tyrone", "Priya", "Brandon", "Megan", "Ahmed", "Olivia",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Garcia", "Johnson", "Nguyen", "Williams", "Martinez", "Brown", "Lee",
    "Davis", "Patel", "Miller", "Hernandez", "Wilson", "Kim", "Anderson", "Lopez",
    "Thompson", "Chen", "Jackson", "Rivera", "White", "Okafor", "Harris", "Kowalski",
)  # fmt: skip

TAX_RATES_PERCENT = {"TX": "8.25", "CA": "7.25", "NY": "8.875", "WA": "6.5"}
"""Sales tax the demo merchant owes on purchases shipped to these states."""
BUYER_SHIPPING_ZONE = 6
"""The store charges buyers ground-parcel rates for this zone (a typical cross-country trip)."""


@dataclass(frozen=True)
class PlannedOrder:
    """An order the demo will place on the store, and what fbs should make of it."""

    lines: tuple[tuple[Part, int], ...]
    shipping: dict[str, str]
    billing: dict[str, str]
    expect: str = "completed"
    """``completed``, or the reason code fbs must hold or reject the order with."""

    def woo_lines(self) -> list[dict[str, Any]]:
        """The ``lines`` argument of :meth:`WooCommerceImitation.add_order`."""
        return [
            {
                "sku": part.sku,
                "name": part.name,
                "quantity": quantity,
                "price": f"{part.retail_cents / 100:.2f}",
            }
            for part, quantity in self.lines
        ]

    def shipping_total(self) -> str:
        """What the store charged the buyer for shipping: a carrier-style rate by weight."""
        weight = sum(part.weight_grams * quantity for part, quantity in self.lines)
        dollars = -(-rate_cents(BUYER_SHIPPING_ZONE, weight) // 100)
        return f"{dollars - 0.01:.2f}"

    def tax_total(self) -> str:
        """The sales tax the buyer paid the merchant (state rate on the items)."""
        rate = float(TAX_RATES_PERCENT.get(self.shipping.get("state", ""), "0"))
        items = sum(part.retail_cents * quantity for part, quantity in self.lines)
        return f"{round(items * rate / 100) / 100:.2f}"


def problem_count(orders: int) -> int:
    """How many orders of each problem kind a run of ``orders`` gets: few, growing slowly."""
    return max(1, orders // 60)


def plan_orders(count: int, seed: int) -> list[PlannedOrder]:
    """``count`` orders: ordinary US orders plus a few fbs must hold or reject.

    The problem orders (a Toronto address, an APO address, an unknown part number) are
    spread through the list, not bunched at the end.

    Raises:
        ValueError: ``count`` leaves no room for at least one ordinary order.
    """
    problems = problem_count(count)
    if count < 3 * problems + 1:
        raise ValueError(f"a demo needs at least {3 * problems + 1} orders, got {count}")
    rng = random.Random(seed)
    planned = [_ordinary(rng) for _ in range(count - 3 * problems)]
    for _ in range(problems):
        for make in (_toronto, _apo, _unknown_part):
            planned.insert(rng.randrange(len(planned) + 1), make(rng))
    return planned


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _billing(first: str, last: str, address: dict[str, str], rng: random.Random) -> dict[str, str]:
    return {
        **address,
        "email": f"{first}.{last}{rng.randrange(10, 99)}@example.com".lower(),
        "phone": f"+1 555 01{rng.randrange(10, 99)}",
    }


def _lines(rng: random.Random) -> tuple[tuple[Part, int], ...]:
    count = rng.choices((1, 2, 3), weights=(5, 3, 1))[0]
    parts = rng.sample(CATALOG, count)
    return tuple((part, rng.choice(part.quantities)) for part in parts)


def _ordinary(rng: random.Random) -> PlannedOrder:
    place = rng.choice(PLACES)
    first, last = _person(rng)
    address = {
        "first_name": first,
        "last_name": last,
        "address_1": f"{rng.randrange(100, 2999)} {rng.choice(place.streets)}",
        "city": place.city,
        "state": place.state,
        "postcode": place.postcode,
        "country": "US",
    }
    return PlannedOrder(_lines(rng), address, _billing(first, last, address, rng))


def _toronto(rng: random.Random) -> PlannedOrder:
    first, last = _person(rng)
    address = {
        "first_name": first,
        "last_name": last,
        "address_1": f"{rng.randrange(100, 400)} Front St W",
        "city": "Toronto",
        "state": "ON",
        "postcode": "M5V 2T6",
        "country": "CA",
    }
    return PlannedOrder(
        _lines(rng), address, _billing(first, last, address, rng), expect="non_us_destination"
    )


def _apo(rng: random.Random) -> PlannedOrder:
    first, last = _person(rng)
    address = {
        "first_name": first,
        "last_name": last,
        "address_1": f"Unit {rng.randrange(2000, 9000)} Box {rng.randrange(100, 999)}",
        "city": "APO",
        "state": "AE",
        "postcode": "09012",
        "country": "US",
    }
    return PlannedOrder(
        _lines(rng), address, _billing(first, last, address, rng), expect="military_not_enabled"
    )


def _unknown_part(rng: random.Random) -> PlannedOrder:
    ordinary = _ordinary(rng)
    return PlannedOrder(
        ((UNKNOWN_PART, 1), *ordinary.lines[:1]),
        ordinary.shipping,
        ordinary.billing,
        expect="unknown_sku",
    )
