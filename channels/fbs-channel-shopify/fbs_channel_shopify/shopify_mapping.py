"""Pure functions from Admin GraphQL order nodes to :mod:`fbs_core.domain` objects.

An order is mapped with every line item and fulfillment order already read (the channel
reads further pages first). Nothing here raises on bad input: a line fbs cannot ship (no
SKU, a gift card, a line that needs no shipping, a line to be picked up or delivered
locally) makes the whole order an :class:`UnreadableOrder` with its own reason code and a
sentence naming the line, never a guess. Quantities are ``currentQuantity``: what the
order holds after edits and removals, so a removed line is simply not there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from fbs_core.domain import (
    Address,
    BuyerTotals,
    IncomingLine,
    IncomingOrder,
    Money,
    UnreadableOrder,
)


class FinancialStatus(StrEnum):
    """``OrderDisplayFinancialStatus`` values fbs acts on."""

    paid = "PAID"
    partially_refunded = "PARTIALLY_REFUNDED"
    refunded = "REFUNDED"
    voided = "VOIDED"


PAID = frozenset({FinancialStatus.paid, FinancialStatus.partially_refunded})
"""An order in one of these is paid and is fulfilled."""
STOPPED = frozenset({FinancialStatus.refunded, FinancialStatus.voided})
"""An order in one of these is treated as cancelled."""
NOT_BY_CARRIER = frozenset({"PICK_UP", "RETAIL", "LOCAL"})
"""Delivery methods whose goods a warehouse does not ship by carrier."""

CHANNEL_FO_LINE_ITEMS = "fulfillment_order_line_items"
"""Line channel data key: the line's fulfillment-order line item ids, comma-separated."""
CHANNEL_LINE_ITEM = "line_item_id"
"""Line channel data key: the line item's global id."""
CHANNEL_ORDER = "order_id"
"""Order channel data key: the order's global id."""


class Unmappable(Exception):  # noqa: N818 - an outcome, not an error that escapes
    """Raised inside this module when an order cannot be mapped; carries the reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def legacy_id(gid: str) -> str:
    """``gid://shopify/Order/123`` → ``123`` (the id Shopify's admin and webhooks show)."""
    return gid.rsplit("/", 1)[-1]


def order_gid(external_id: str) -> str:
    """The global id of an order from its external id."""
    return external_id if external_id.startswith("gid://") else f"gid://shopify/Order/{external_id}"


def parse_time(value: Any) -> datetime | None:
    """Parse a Shopify ``DateTime`` (ISO 8601, ``Z``) as UTC; None if absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def money_of(bag: Any, currency: str, what: str) -> Money:
    """A ``MoneyBag``'s shop amount in cents."""
    shop = (bag or {}).get("shopMoney") if isinstance(bag, Mapping) else None
    amount = shop.get("amount") if isinstance(shop, Mapping) else None
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise Unmappable("bad_amount", f"{what} is not an amount ({amount!r})") from None
    if not value.is_finite():
        raise Unmappable("bad_amount", f"{what} is not a finite amount ({amount!r})")
    return Money.from_decimal(value, currency)


def _text(data: Mapping[str, Any] | None, key: str) -> str | None:
    value = (data or {}).get(key)
    text = str(value).strip() if value is not None else ""
    return text or None


def map_address(node: Mapping[str, Any]) -> Address | None:
    """The ship-to address, with the order's e-mail and (as a fallback) phone."""
    shipping = node.get("shippingAddress")
    if not isinstance(shipping, Mapping):
        return None
    name = " ".join(p for p in (_text(shipping, "firstName"), _text(shipping, "lastName")) if p)
    return Address(
        name=name or None,
        company=_text(shipping, "company"),
        line1=_text(shipping, "address1"),
        line2=_text(shipping, "address2"),
        city=_text(shipping, "city"),
        region=(_text(shipping, "provinceCode") or "").upper() or None,
        postal_code=_text(shipping, "zip"),
        country=(_text(shipping, "countryCodeV2") or "").upper() or None,
        phone=_text(shipping, "phone") or _text(node, "phone"),
        email=_text(node, "email"),
    )


def fulfillment_order_items(node: Mapping[str, Any]) -> dict[str, list[tuple[str, dict]]]:
    """Line item id → [(fulfillment-order line item id, its fulfillment order)]."""
    found: dict[str, list[tuple[str, dict]]] = {}
    for fo in _nodes(node.get("fulfillmentOrders")):
        for item in _nodes(fo.get("lineItems")):
            line_item = (item.get("lineItem") or {}).get("id")
            if line_item and item.get("id"):
                found.setdefault(str(line_item), []).append((str(item["id"]), fo))
    return found


def _nodes(connection: Any) -> list[dict]:
    if not isinstance(connection, Mapping):
        return []
    return [n for n in connection.get("nodes") or [] if isinstance(n, dict)]


def _line(
    item: Mapping[str, Any], currency: str, position: int, fo_items: Mapping[str, list]
) -> IncomingLine | None:
    gid = str(item.get("id") or "")
    if not gid:
        raise Unmappable("unreadable_order", f"line item {position} has no id")
    title = str(item.get("name") or "")
    label = f"line {position} ({title or legacy_id(gid)})"
    quantity = item.get("currentQuantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise Unmappable("unreadable_order", f"{label} has no currentQuantity")
    if quantity == 0:
        return None  # removed by an order edit, or refunded and removed
    if item.get("isGiftCard"):
        raise Unmappable(
            "gift_card_line", f"{label} is a gift card; Shopify issues it, no warehouse ships it"
        )
    if item.get("requiresShipping") is False:
        raise Unmappable(
            "no_shipping_line",
            f"{label} needs no shipping (a digital product or a service); fulfil it in Shopify",
        )
    for _, fo in fo_items.get(gid, []):
        method = ((fo.get("deliveryMethod") or {}).get("methodType")) or ""
        if method in NOT_BY_CARRIER:
            raise Unmappable(
                "not_shipped_by_carrier",
                f"{label} is to be delivered by {method.lower().replace('_', ' ')}, not "
                "shipped by a carrier; fulfil it in Shopify",
            )
    sku = _text(item, "sku")
    if not sku:
        raise Unmappable(
            "missing_sku",
            f"{label} has no SKU, so no warehouse can be asked for it; add the SKU to the "
            "product variant in Shopify",
        )
    ids = [item_id for item_id, _ in fo_items.get(gid, [])]
    data = {CHANNEL_LINE_ITEM: gid}
    if ids:
        data[CHANNEL_FO_LINE_ITEMS] = ",".join(ids)
    return IncomingLine(
        line_id=legacy_id(gid),
        sku=sku,
        quantity=quantity,
        title=title[:500],
        unit_price=money_of(
            item.get("discountedUnitPriceAfterAllDiscountsSet"), currency, f"{label} price"
        ),
        channel_data=data,
    )


def is_wanted(node: Mapping[str, Any]) -> bool:
    """Whether a node is an order fbs reads: paid, or stopped (cancelled, refunded, voided).

    An order already fulfilled in full is left out: its goods have gone (fulfilled by fbs,
    whose records already say so, or by the merchant before fbs saw it, when buying them
    again would ship them twice).
    """
    status = node.get("displayFinancialStatus")
    if node.get("displayFulfillmentStatus") == "FULFILLED" and not node.get("cancelledAt"):
        return False
    return bool(node.get("cancelledAt")) or status in PAID or status in STOPPED


def map_order(node: Any) -> IncomingOrder | UnreadableOrder:
    """Map one complete ``Order`` node to an ``IncomingOrder`` or an ``UnreadableOrder``."""
    if not isinstance(node, Mapping) or not node.get("id"):
        return UnreadableOrder(
            external_id="unknown", message="Shopify returned an order with no id"
        )
    external_id = legacy_id(str(node["id"]))
    updated_at = parse_time(node.get("updatedAt"))
    try:
        return _map(node, external_id, updated_at)
    except Unmappable as exc:
        return UnreadableOrder(
            external_id=external_id,
            reason=exc.reason,
            message=f"Shopify order {node.get('name') or external_id}: {exc.message}",
            updated_at=updated_at,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return UnreadableOrder(
            external_id=external_id,
            message=f"Shopify order {external_id}: {where or 'a field'} is invalid: "
            f"{first.get('msg')}",
            updated_at=updated_at,
        )


def _map(node: Mapping[str, Any], external_id: str, updated_at: datetime | None) -> IncomingOrder:
    placed_at = parse_time(node.get("createdAt"))
    if placed_at is None or updated_at is None:
        raise Unmappable("unreadable_order", "createdAt or updatedAt is missing")
    currency = str(node.get("currencyCode") or "USD").upper()
    cancelled = bool(node.get("cancelledAt")) or node.get("displayFinancialStatus") in STOPPED
    fo_items = fulfillment_order_items(node)
    lines: list[IncomingLine] = []
    for position, item in enumerate(_nodes(node.get("lineItems")), start=1):
        try:
            line = _line(item, currency, position, fo_items)
        except Unmappable:
            if cancelled:
                continue  # a cancelled order is stopped whatever its lines are
            raise
        if line is not None:
            lines.append(line)
    if not lines and not cancelled:
        raise Unmappable("no_lines", "no line is left to fulfil (every line was removed)")
    totals = BuyerTotals(
        items=money_of(node.get("currentSubtotalPriceSet"), currency, "currentSubtotalPriceSet"),
        shipping=money_of(node.get("currentShippingPriceSet"), currency, "currentShippingPriceSet"),
        tax=money_of(node.get("currentTotalTaxSet"), currency, "currentTotalTaxSet"),
        total=money_of(node.get("currentTotalPriceSet"), currency, "currentTotalPriceSet"),
    )
    return IncomingOrder(
        external_id=external_id,
        number=str(node.get("name") or external_id),
        placed_at=placed_at,
        updated_at=updated_at,
        currency=currency,
        lines=tuple(lines),
        ship_to=map_address(node),
        buyer_paid=totals,
        cancelled=cancelled,
        note=str(node.get("note") or "")[:2000],
        channel_data={CHANNEL_ORDER: str(node["id"])},
    )
