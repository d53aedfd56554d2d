"""The core's default sourcing plan: one warehouse if possible, else the fewest, cheapest.

Landed cost is what the merchant pays a warehouse for a leg: parts + core charges +
estimated shipping (DESIGN.md section 1). :func:`choose_plan` prefers one shipment, since
a split order costs an extra parcel and reaches the buyer in pieces.

Two simplifications keep plans predictable:

* a warehouse is a supplier instance (``Offer.supplier``); one that reports several
  offers for one part is taken at its cheapest usable offer, and a leg ships from the ZIP
  of the offer for its first line;
* order lines that repeat a SKU are sourced together from one warehouse, which must hold
  their combined quantity (otherwise two lines could each count the same stock).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

from ..domain import (
    Address,
    FulfillmentRules,
    Money,
    NoPlan,
    Offer,
    Order,
    OrderLine,
    PlanLeg,
    PlanLine,
    SourcingPlan,
)
from .geo import distance_miles

ShippingEstimator = Callable[[str, Address, int, str], Money]

MAX_SPLIT_COMBINATIONS = 5000
"""How many warehouse sets the exact split search may examine before falling back to
greedy set cover. Every set of up to 10 warehouses (1,023 sets) fits; 15 warehouses fit
up to 5-way splits."""


@dataclass(frozen=True, slots=True)
class _Demand:
    """One SKU of the order: its lines and their combined quantity."""

    sku: str
    quantity: int
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, slots=True)
class _Priced:
    """One warehouse shipping some SKUs as one parcel, priced in cents."""

    supplier: str
    demand_indexes: tuple[int, ...]
    ship_from_zip: str
    weight_grams: int
    shipping: Money
    distance: float | None
    landed_cents: int


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A priced set of legs, with the keys that rank it.

    Candidates are compared in plain integers; only the winner becomes pydantic legs.
    """

    legs: tuple[_Priced, ...]
    landed_cents: int
    distance: float

    def rank(self) -> tuple[int, float, tuple[str, ...]]:
        return (self.landed_cents, self.distance, tuple(sorted(leg.supplier for leg in self.legs)))


def format_money(amount: Money) -> str:
    """Render money for a merchant: ``$54.30`` for USD, ``54.30 CAD`` otherwise."""
    if amount.currency == "USD":
        return (
            ("-" if amount.cents < 0 else "")
            + "$"
            + Money(cents=abs(amount.cents)).to_decimal_string()
        )
    return str(amount)


def _format_distance(miles: float | None) -> str:
    return "distance unknown" if miles is None else f"{round(miles):,} mi"


def _or_inf(miles: float | None) -> float:
    return math.inf if miles is None else miles


def _demands(order: Order) -> list[_Demand]:
    grouped: dict[str, list[OrderLine]] = {}
    for line in order.lines:
        if line.quantity > 0:
            grouped.setdefault(line.sku, []).append(line)
    return [
        _Demand(sku=sku, quantity=sum(line.quantity for line in lines), lines=tuple(lines))
        for sku, lines in grouped.items()
    ]


def _in_currency(offer: Offer, currency: str) -> bool:
    core_ok = offer.core_charge.cents == 0 or offer.core_charge.currency == currency
    return offer.unit_cost.currency == currency and core_ok


def _unit_cents(offer: Offer) -> int:
    return offer.unit_cost.cents + offer.core_charge.cents


class _Planner:
    """The state of one :func:`choose_plan` call: usable offers and memoized estimates."""

    def __init__(
        self,
        order: Order,
        demands: list[_Demand],
        offers: Sequence[Offer],
        rules: FulfillmentRules,
        estimate_shipping: ShippingEstimator,
    ) -> None:
        self.order = order
        self.currency = order.currency
        self.ship_to = order.ship_to or Address()
        self.demands = demands
        self.estimate_shipping = estimate_shipping
        self._shipping: dict[tuple[str, int], Money] = {}
        self._distance: dict[str, float | None] = {}
        # supplier -> demand index -> its cheapest usable offer for that SKU
        self.sources: dict[str, dict[int, Offer]] = {}
        index_by_sku = {demand.sku: i for i, demand in enumerate(demands)}
        for offer in offers:
            i = index_by_sku.get(offer.sku)
            if i is None or not _in_currency(offer, self.currency):
                continue
            if offer.available < max(demands[i].quantity, rules.min_stock):
                continue
            best = self.sources.setdefault(offer.supplier, {}).get(i)
            if best is None or (_unit_cents(offer), -offer.available, offer.ship_from_zip) < (
                _unit_cents(best),
                -best.available,
                best.ship_from_zip,
            ):
                self.sources[offer.supplier][i] = offer
        self.masks = {
            supplier: sum(1 << i for i in by_demand) for supplier, by_demand in self.sources.items()
        }
        self.full_mask = (1 << len(demands)) - 1

    def distance(self, zip_code: str) -> float | None:
        if zip_code not in self._distance:
            self._distance[zip_code] = distance_miles(zip_code, self.ship_to.postal_code)
        return self._distance[zip_code]

    def shipping(self, zip_code: str, weight_grams: int) -> Money:
        key = (zip_code, weight_grams)
        if key not in self._shipping:
            self._shipping[key] = self.estimate_shipping(
                zip_code, self.ship_to, weight_grams, self.currency
            )
        return self._shipping[key]

    def price(self, supplier: str, demand_indexes: Sequence[int]) -> _Priced:
        """Price one warehouse shipping the given SKUs as one parcel."""
        by_demand = self.sources[supplier]
        items = 0
        weight = 0
        for i in demand_indexes:
            offer = by_demand[i]
            quantity = self.demands[i].quantity
            items += _unit_cents(offer) * quantity
            weight += offer.weight_grams * quantity
        ship_from = by_demand[demand_indexes[0]].ship_from_zip
        shipping = self.shipping(ship_from, weight)
        return _Priced(
            supplier=supplier,
            demand_indexes=tuple(demand_indexes),
            ship_from_zip=ship_from,
            weight_grams=weight,
            shipping=shipping,
            distance=self.distance(ship_from),
            landed_cents=items + shipping.cents,
        )

    def leg(self, priced: _Priced) -> PlanLeg:
        """Turn a priced leg into the plan's record of it, one plan line per order line."""
        by_demand = self.sources[priced.supplier]
        lines: list[PlanLine] = []
        for i in priced.demand_indexes:
            offer = by_demand[i]
            core = offer.core_charge if offer.core_charge.cents else Money.zero(self.currency)
            lines.extend(
                PlanLine(
                    line_id=line.line_id,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_cost=offer.unit_cost,
                    core_charge=core,
                    weight_grams=offer.weight_grams,
                )
                for line in self.demands[i].lines
            )
        return PlanLeg(
            supplier=priced.supplier,
            ship_from_zip=priced.ship_from_zip,
            lines=tuple(lines),
            shipping=priced.shipping,
            distance_miles=priced.distance,
        )

    def candidate(self, assignment: dict[str, list[int]]) -> _Candidate:
        legs = tuple(
            self.price(supplier, indexes)
            for supplier, indexes in sorted(assignment.items(), key=lambda item: min(item[1]))
        )
        return _Candidate(
            legs=legs,
            landed_cents=sum(leg.landed_cents for leg in legs),
            distance=sum(_or_inf(leg.distance) for leg in legs),
        )

    def singles(self) -> list[_Candidate]:
        """Every warehouse that can fill the whole order, best first."""
        everything = list(range(len(self.demands)))
        found = [
            self.candidate({supplier: everything})
            for supplier, mask in self.masks.items()
            if mask == self.full_mask
        ]
        return sorted(found, key=_Candidate.rank)

    def assign(self, suppliers: Sequence[str]) -> dict[str, list[int]]:
        """Give each SKU to the warehouse in ``suppliers`` that sells it cheapest."""
        assignment: dict[str, list[int]] = {}
        for i, demand in enumerate(self.demands):
            able = [s for s in suppliers if i in self.sources[s]]
            best = min(
                able,
                key=lambda s: (
                    _unit_cents(self.sources[s][i]) * demand.quantity,
                    _or_inf(self.distance(self.sources[s][i].ship_from_zip)),
                    s,
                ),
            )
            assignment.setdefault(best, []).append(i)
        return assignment

    def split(self) -> tuple[_Candidate, bool]:
        """Return the best plan over the fewest warehouses, and whether it was exact.

        Examines every set of k warehouses for k = 2, 3, ... and stops at the first k with
        a set covering every SKU. Past :data:`MAX_SPLIT_COMBINATIONS` sets it switches to
        greedy set cover: repeatedly take the warehouse that fills the most SKUs still
        unfilled (ties to the cheaper, then nearer, then by name). Greedy may use more
        warehouses than necessary, but its cost grows only linearly.
        """
        suppliers = sorted(self.masks)
        examined = 0
        for k in range(2, len(suppliers) + 1):
            examined += math.comb(len(suppliers), k)
            if examined > MAX_SPLIT_COMBINATIONS:
                break
            best: _Candidate | None = None
            for combo in combinations(suppliers, k):
                union = 0
                for supplier in combo:
                    union |= self.masks[supplier]
                if union != self.full_mask:
                    continue
                found = self.candidate(self.assign(combo))
                if best is None or found.rank() < best.rank():
                    best = found
            if best is not None:
                return best, True
        return self.candidate(self.assign(self.greedy_cover(suppliers))), False

    def greedy_cover(self, suppliers: Sequence[str]) -> list[str]:
        chosen: list[str] = []
        uncovered = self.full_mask
        while uncovered:

            def gain(s: str, uncovered: int = uncovered) -> tuple[int, int, float, str]:
                newly = self.masks[s] & uncovered
                cost = sum(
                    _unit_cents(offer) * self.demands[i].quantity
                    for i, offer in self.sources[s].items()
                    if newly >> i & 1
                )
                some_zip = next(iter(self.sources[s].values())).ship_from_zip
                return (-newly.bit_count(), cost, _or_inf(self.distance(some_zip)), s)

            pick = min((s for s in suppliers if s not in chosen), key=gain)
            chosen.append(pick)
            uncovered &= ~self.masks[pick]
        return chosen

    def no_plan(self, offers: Sequence[Offer], rules: FulfillmentRules) -> NoPlan | None:
        """Explain why some SKU cannot be filled by any warehouse, or None if all can."""
        covered = 0
        for mask in self.masks.values():
            covered |= mask
        short = [d for i, d in enumerate(self.demands) if not covered >> i & 1]
        if not short:
            return None
        known = {offer.sku for offer in offers}
        unknown = [d.sku for d in short if d.sku not in known]
        if unknown:
            noun = "part" if len(unknown) == 1 else "parts"
            return NoPlan(
                reason="unknown_sku",
                message=f"No warehouse carries {noun} {', '.join(unknown)}.",
                skus=tuple(unknown),
            )
        in_currency = {o.sku for o in offers if _in_currency(o, self.currency)}
        sentences = []
        stock = [f"{d.quantity} of {d.sku}" for d in short if d.sku in in_currency]
        if stock:
            floor = f" (minimum stock {rules.min_stock})" if rules.min_stock > 1 else ""
            sentences.append(f"No warehouse has {' or '.join(stock)} in stock{floor}.")
        foreign = [d.sku for d in short if d.sku not in in_currency]
        if foreign:
            sentences.append(f"No warehouse offers {', '.join(foreign)} in {self.currency}.")
        return NoPlan(
            reason="no_stock", message=" ".join(sentences), skus=tuple(d.sku for d in short)
        )


def _explain_single(ranked: list[_Candidate], currency: str) -> str:
    best, runner = ranked[0].legs[0], ranked[1].legs[0] if len(ranked) > 1 else None
    text = (
        f"{best.supplier} ({_format_distance(best.distance)}) ships everything for "
        f"{format_money(Money(cents=best.landed_cents, currency=currency))} landed; "
    )
    if runner is None:
        return text + "no other warehouse can fill the whole order."
    text += (
        f"next best {runner.supplier} at "
        f"{format_money(Money(cents=runner.landed_cents, currency=currency))}"
    )
    if runner.landed_cents == best.landed_cents:
        text += f", {_format_distance(runner.distance)} away"
    return text + "."


def _explain_split(found: _Candidate, exact: bool, currency: str) -> str:
    suppliers = [leg.supplier for leg in found.legs]
    names = ", ".join(suppliers[:4])
    if len(suppliers) > 4:
        names += f" and {len(suppliers) - 4} more"
    landed = format_money(Money(cents=found.landed_cents, currency=currency))
    text = (
        f"Split across {len(found.legs)} warehouses ({names}) for {landed} landed: "
        "no single warehouse stocks every part."
    )
    if not exact:
        text += (
            " Too many warehouse combinations to compare them all, so they were chosen greedily."
        )
    return text


def choose_plan(
    order: Order,
    offers: Sequence[Offer],
    rules: FulfillmentRules,
    estimate_shipping: ShippingEstimator,
) -> SourcingPlan | NoPlan:
    """Choose the warehouses that fill ``order``: the core's default sourcing plan.

    An offer is usable for a SKU when it is in the order's currency and its ``available``
    is at least ``max(quantity, rules.min_stock)``.

    1. **One warehouse** when some warehouse can fill every line: the lowest landed cost
       (Σ (unit cost + core charge) × quantity + one shipping estimate for the total
       weight), ties to the nearest to the buyer, then by supplier name.
    2. **Fewest warehouses** otherwise: the smallest number of warehouses that together
       fill every line; among such sets the lowest total landed cost, each SKU going to the
       set's cheapest warehouse for it, one shipping estimate per leg; ties to the
       smallest total distance. The search is exact up to :data:`MAX_SPLIT_COMBINATIONS`
       sets and greedy beyond (see ``_Planner.split``).
    3. **No plan**: ``unknown_sku`` when a SKU has no offer at all, else ``no_stock``.

    Lines with a quantity of zero or less are left out; an order with no other line gets
    ``NoPlan(reason="no_lines")``.

    Args:
        order: the order to fill; ``ship_to`` locates the buyer.
        offers: every warehouse's offers for the order's SKUs.
        rules: the store's fulfillment rules (``min_stock``).
        estimate_shipping: ``(origin_zip, destination, weight_grams, currency) -> Money``,
            normally the ``fbs_shipping_estimate`` hook.

    Returns:
        The plan (``tax`` left at zero for ``fbs_tax_estimate``) or why there is none.
    """
    demands = _demands(order)
    if not demands:
        return NoPlan(reason="no_lines", message="The order has no line with a quantity to ship.")
    planner = _Planner(order, demands, offers, rules, estimate_shipping)
    missing = planner.no_plan(offers, rules)
    if missing is not None:
        return missing
    ranked = planner.singles()
    if ranked:
        return SourcingPlan(
            legs=tuple(planner.leg(priced) for priced in ranked[0].legs),
            tax=Money.zero(order.currency),
            explanation=_explain_single(ranked, order.currency),
        )
    found, exact = planner.split()
    return SourcingPlan(
        legs=tuple(planner.leg(priced) for priced in found.legs),
        tax=Money.zero(order.currency),
        explanation=_explain_split(found, exact, order.currency),
    )
