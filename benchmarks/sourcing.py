"""Plans per second of the default sourcing plan, next to the bound it is measured against.

Plans a few thousand random but realistic orders (1-5 lines of auto parts, buyers at real
ZIPs in the 50 states and DC) across five warehouses, with the default shipping table.
The bound is the bare cost of the shipping-estimate and distance calls those same plans
make, replayed on their own in the same run: what planning would cost if choosing among
warehouses were free. The ratio says how much the planner adds on top.

Also compares one ``zipcodes.matching`` lookup with the geo module's index.

Run: ``uv run python benchmarks/sourcing.py [--orders 2000] [--seed 7]``
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import UTC, datetime

import zipcodes

from fbs_core.domain import Address, FulfillmentRules, Money, NoPlan, Offer, Order, OrderLine
from fbs_core.sourcing import geo
from fbs_core.sourcing import plan as plan_module
from fbs_core.sourcing.destinations import STATES
from fbs_core.sourcing.plan import choose_plan
from fbs_core.sourcing.shipping import estimate_shipping

WAREHOUSES = {
    "newark-nj": "07102",
    "chicago-il": "60601",
    "los-angeles-ca": "90001",
    "dallas-tx": "75201",
    "atlanta-ga": "30303",
}
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def catalog(rng: random.Random, size: int) -> list[tuple[str, int, int, int]]:
    """(sku, base cents, core cents, grams): brake pads to transmissions."""
    parts = []
    for n in range(size):
        grams = int(rng.choice([300, 800, 1500, 4000, 7000, 12000, 25000]) * rng.uniform(0.8, 1.2))
        base = int(rng.uniform(800, 45000))
        core = int(base * 0.2) if rng.random() < 0.2 else 0
        parts.append((f"P-{n:04d}", base, core, grams))
    return parts


def offers_for(rng: random.Random, parts) -> dict[str, list[Offer]]:
    by_sku: dict[str, list[Offer]] = {}
    for sku, base, core, grams in parts:
        for supplier, zip_code in WAREHOUSES.items():
            if rng.random() < 0.7:
                by_sku.setdefault(sku, []).append(
                    Offer(
                        supplier=supplier,
                        sku=sku,
                        available=rng.randint(0, 20),
                        unit_cost=Money(cents=int(base * rng.uniform(0.85, 1.15))),
                        core_charge=Money(cents=core),
                        ship_from_zip=zip_code,
                        weight_grams=grams,
                    )
                )
    return by_sku


def orders_for(rng: random.Random, parts, count: int) -> list[Order]:
    buyers = [
        info for info in geo._index().values() if info.state in STATES and info.location is not None
    ]
    result = []
    for n in range(count):
        where = rng.choice(buyers)
        chosen = rng.sample(parts, rng.choice([1, 1, 1, 2, 2, 3, 4, 5]))
        lines = tuple(
            OrderLine(
                line_id=str(i),
                sku=sku,
                quantity=rng.choice([1, 1, 1, 2, 4]),
                unit_price=Money(cents=base * 2),
            )
            for i, (sku, base, _core, _grams) in enumerate(chosen)
        )
        ship_to = Address(
            name="Buyer",
            line1="1 Main St",
            city=where.city,
            region=where.state,
            postal_code=where.zip_code,
        )
        result.append(
            Order(
                id=n,
                merchant_id="bench",
                channel="bench",
                external_id=str(n),
                status="approved",
                lines=lines,
                ship_to=ship_to,
                placed_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    started = time.perf_counter()
    geo._index()
    index_seconds = time.perf_counter() - started

    rng = random.Random(args.seed)
    parts = catalog(rng, 400)
    by_sku = offers_for(rng, parts)
    orders = orders_for(rng, parts, args.orders)
    work = [
        (order, [o for line in order.lines for o in by_sku.get(line.sku, [])]) for order in orders
    ]
    rules = FulfillmentRules(min_stock=2)

    # One recording pass: which estimate and distance calls do the plans make?
    estimate_calls: list[tuple[str, Address, int, str]] = []
    distance_calls: list[tuple[str, str | None]] = []

    def recording_estimate(origin_zip, destination, weight_grams, currency):
        estimate_calls.append((origin_zip, destination, weight_grams, currency))
        return estimate_shipping(origin_zip, destination, weight_grams, currency)

    def recording_distance(a, b):
        distance_calls.append((a, b))
        return geo.distance_miles(a, b)

    plan_module.distance_miles = recording_distance
    outcomes: Counter[str] = Counter()
    for order, offers in work:
        result = choose_plan(order, offers, rules, recording_estimate)
        if isinstance(result, NoPlan):
            outcomes[f"no plan ({result.reason})"] += 1
        else:
            outcomes[f"{len(result.legs)} leg(s)"] += 1
    plan_module.distance_miles = geo.distance_miles

    plan_seconds = bound_seconds = float("inf")
    for _ in range(args.repeat):
        started = time.perf_counter()
        for order, offers in work:
            choose_plan(order, offers, rules, estimate_shipping)
        plan_seconds = min(plan_seconds, time.perf_counter() - started)

        started = time.perf_counter()
        for call in estimate_calls:
            estimate_shipping(*call)
        for a, b in distance_calls:
            geo.distance_miles(a, b)
        bound_seconds = min(bound_seconds, time.perf_counter() - started)

    probes = [info.zip_code for info in rng.sample(list(geo._index().values()), 200)]
    started = time.perf_counter()
    for code in probes:
        zipcodes.matching(code)
    matching_us = (time.perf_counter() - started) / len(probes) * 1e6
    started = time.perf_counter()
    for code in probes:
        geo.zip_info(code)
    index_us = (time.perf_counter() - started) / len(probes) * 1e6

    n = len(work)
    print(f"orders: {n} across {len(WAREHOUSES)} warehouses (best of {args.repeat} runs)")
    print("outcomes: " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))
    print(
        f"calls the plans make: {len(estimate_calls)} shipping estimates "
        f"({len(estimate_calls) / n:.2f}/order), {len(distance_calls)} distances"
    )
    print(f"{'':32}{'seconds':>10}{'plans/s':>12}")
    print(f"{'choose_plan (default table)':32}{plan_seconds:>10.3f}{n / plan_seconds:>12,.0f}")
    print(f"{'bound: estimate+distance only':32}{bound_seconds:>10.3f}{n / bound_seconds:>12,.0f}")
    print(f"ratio plan / bound: {plan_seconds / bound_seconds:.1f}x")
    print(
        f"ZIP lookup: zipcodes.matching {matching_us:.0f} us vs geo index {index_us:.2f} us "
        f"(index built once in {index_seconds:.2f} s, including loading the ZIP data)"
    )


if __name__ == "__main__":
    main()
