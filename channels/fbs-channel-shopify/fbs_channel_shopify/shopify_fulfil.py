"""Tracking out: one parcel becomes one fulfillment of exactly its lines and quantities.

Shopify fulfils *fulfillment orders* (what one location ships of an order), not orders.
For a parcel the channel reads the order's fulfillment orders, takes the line items of
those at the configured location that are open or in progress, and sends one
``fulfillmentCreate`` with only the parcel's quantities. ``fulfillmentCreate`` has no
idempotency key, so the fulfillments already on the order are read first and a parcel
whose tracking number is there is not fulfilled again.

A line that cannot be fulfilled here (its fulfillment order is on hold, closed, already
fulfilled, or was moved to another location) raises :class:`FulfillmentBlocked`, a fatal
error whose message says which and what to do: the order is held for the merchant
instead of being retried forever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fbs_core.domain import TrackingLine
from fbs_core.errors import FatalError

from .shopify_mapping import CHANNEL_FO_LINE_ITEMS, CHANNEL_LINE_ITEM


class FulfillmentOrderStatus(StrEnum):
    """``FulfillmentOrderStatus`` values the channel distinguishes."""

    open = "OPEN"
    in_progress = "IN_PROGRESS"
    on_hold = "ON_HOLD"
    scheduled = "SCHEDULED"
    incomplete = "INCOMPLETE"
    closed = "CLOSED"
    cancelled = "CANCELLED"


FULFILLABLE = frozenset({FulfillmentOrderStatus.open, FulfillmentOrderStatus.in_progress})


class FulfillmentBlocked(FatalError):
    """Shopify will not take this parcel's lines at the configured location; held, not retried."""

    code = "shopify_fulfillment_blocked"


@dataclass(frozen=True)
class Location:
    """A shop location: its global id and name."""

    id: str
    name: str


@dataclass
class _Item:
    id: str
    line_item: str
    remaining: int
    fulfillment_order: Mapping[str, Any]


def _items(fulfillment_orders: Sequence[Mapping[str, Any]]) -> list[_Item]:
    found = []
    for fo in fulfillment_orders:
        for node in (fo.get("lineItems") or {}).get("nodes") or []:
            found.append(
                _Item(
                    id=str(node.get("id")),
                    line_item=str((node.get("lineItem") or {}).get("id")),
                    remaining=int(node.get("remainingQuantity") or 0),
                    fulfillment_order=fo,
                )
            )
    return found


def _location_of(fo: Mapping[str, Any]) -> tuple[str | None, str]:
    assigned = fo.get("assignedLocation") or {}
    location = assigned.get("location") or {}
    return location.get("id"), str(location.get("name") or assigned.get("name") or "?")


def plan_fulfillment(
    lines: Sequence[TrackingLine],
    fulfillment_orders: Sequence[Mapping[str, Any]],
    location: Location,
    order_name: str,
) -> list[dict[str, Any]]:
    """``lineItemsByFulfillmentOrder`` for a parcel's lines; FulfillmentBlocked if it can't be.

    Each line's quantity is taken from fulfillment-order line items of its line item at
    ``location`` whose fulfillment order is open or in progress, the ids stored at intake
    first. Nothing beyond the parcel's quantities is ever asked for.
    """
    items = _items(fulfillment_orders)
    taken: dict[str, int] = {}
    by_order: dict[str, dict[str, int]] = {}
    for line in lines:
        line_gid = (
            line.channel_data.get(CHANNEL_LINE_ITEM) or f"gid://shopify/LineItem/{line.line_id}"
        )
        known = [i for i in line.channel_data.get(CHANNEL_FO_LINE_ITEMS, "").split(",") if i]
        candidates = [i for i in items if i.line_item == line_gid or i.id in known]
        candidates.sort(key=lambda i: (i.id not in known, i.id))
        needed = line.quantity
        for item in candidates:
            fo = item.fulfillment_order
            location_id, _ = _location_of(fo)
            if fo.get("status") not in FULFILLABLE or location_id != location.id:
                continue
            available = item.remaining - taken.get(item.id, 0)
            quantity = min(needed, available)
            if quantity <= 0:
                continue
            taken[item.id] = taken.get(item.id, 0) + quantity
            entry = by_order.setdefault(str(fo["id"]), {})
            entry[item.id] = entry.get(item.id, 0) + quantity
            needed -= quantity
            if needed == 0:
                break
        if needed > 0:
            raise FulfillmentBlocked(_why(line, needed, candidates, location, order_name))
    return [
        {
            "fulfillmentOrderId": fo_id,
            "fulfillmentOrderLineItems": [{"id": i, "quantity": q} for i, q in quantities.items()],
        }
        for fo_id, quantities in by_order.items()
    ]


def _why(
    line: TrackingLine, missing: int, candidates: Sequence[_Item], location: Location, order: str
) -> str:
    """A sentence saying why ``missing`` units of ``line`` cannot be fulfilled."""
    what = f"Shopify order {order}: {missing} of {line.sku} cannot be marked fulfilled"
    with_units = [i for i in candidates if i.remaining > 0]
    held = [i for i in with_units if i.fulfillment_order.get("status") == "ON_HOLD"]
    if held:
        fo = held[0].fulfillment_order
        reasons = ", ".join(
            f"{h.get('reason')}" + (f" ({h.get('reasonNotes')})" if h.get("reasonNotes") else "")
            for h in fo.get("fulfillmentHolds") or []
        )
        return (
            f"{what}: its fulfillment order {fo.get('id')} is on hold"
            + (f" ({reasons})" if reasons else "")
            + "; release the hold in Shopify, then retry the order in fbs"
        )
    elsewhere = [i for i in with_units if _location_of(i.fulfillment_order)[0] != location.id]
    if elsewhere:
        _, name = _location_of(elsewhere[0].fulfillment_order)
        return (
            f"{what}: its fulfillment order was moved to the location {name!r}, and fbs "
            f"fulfils only {location.name!r}; move it back in Shopify, then retry the order"
        )
    other = [i for i in with_units if i.fulfillment_order.get("status") not in FULFILLABLE]
    if other:
        status = str(other[0].fulfillment_order.get("status")).lower().replace("_", " ")
        if status in ("closed", "cancelled"):
            return (
                f"{what}: its fulfillment order is {status} (the order was cancelled or "
                "fulfilled in Shopify); check the order there"
            )
        return f"{what}: its fulfillment order is {status}; fulfil it in Shopify by hand"
    return (
        f"{what}: it is already fulfilled, closed or cancelled in Shopify; check the order "
        "there (fbs never fulfils a unit twice)"
    )


def tracking_input(company: str, number: str, url: str | None) -> dict[str, Any]:
    """``FulfillmentTrackingInput`` for one parcel."""
    info: dict[str, Any] = {"company": company, "number": number}
    if url:
        info["url"] = url
    return info
