"""Pure functions from WooCommerce REST v3 JSON to :mod:`fbs_core.domain` objects.

An order that cannot be mapped becomes an :class:`UnreadableOrder` with a reason code and
a sentence; nothing here raises on bad input. Addresses and quantities are mapped as they
are, even when fbs cannot ship them: the core decides what to reject, with its own reason.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
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

CANCELLED_STATUSES = frozenset({"cancelled", "refunded"})


class Unmappable(Exception):  # noqa: N818 - an outcome, not an error that escapes
    """Raised inside this module when an order cannot be mapped; carries the reason code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def parse_gmt(value: Any) -> datetime | None:
    """Parse a WooCommerce ``*_gmt`` date (``2017-03-22T19:28:08``) as UTC; None if absent."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def money(value: Any, currency: str, field: str) -> Money:
    """Parse a decimal amount (string or JSON number) into cents."""
    if isinstance(value, bool) or value is None or value == "":
        raise Unmappable("bad_amount", f"{field} is missing or not a number ({value!r})")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise Unmappable("bad_amount", f"{field} is not a number ({str(value)[:40]!r})") from None
    if not amount.is_finite():
        raise Unmappable("bad_amount", f"{field} is not a finite number ({value!r})")
    return Money.from_decimal(amount, currency)


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def map_address(shipping: Mapping[str, Any], billing: Mapping[str, Any] | None) -> Address:
    """Build the ship-to address; phone and email fall back to the billing address."""
    billing = billing or {}
    name = " ".join(p for p in (_text(shipping, "first_name"), _text(shipping, "last_name")) if p)
    state = _text(shipping, "state")
    country = _text(shipping, "country")
    return Address(
        name=name or None,
        company=_text(shipping, "company"),
        line1=_text(shipping, "address_1"),
        line2=_text(shipping, "address_2"),
        city=_text(shipping, "city"),
        region=state.upper() if state and len(state) <= 3 else state,
        postal_code=_text(shipping, "postcode"),
        country=country.upper() if country else None,
        phone=_text(shipping, "phone") or _text(billing, "phone"),
        email=_text(shipping, "email") or _text(billing, "email"),
    )


def map_line(item: Any, currency: str, index: int) -> IncomingLine:
    """Map one ``line_items`` entry; a line without a SKU cannot be fulfilled."""
    if not isinstance(item, Mapping) or item.get("id") is None:
        raise Unmappable("unreadable_order", f"line item {index + 1} has no id")
    line_id = str(item["id"])
    sku = _text(item, "sku")
    title = html.unescape(str(item.get("name") or ""))
    if not sku:
        raise Unmappable(
            "missing_sku",
            f"line {line_id} ({title or 'unnamed product'}) has no SKU, so no warehouse can "
            "be asked for it",
        )
    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int | str):
        raise Unmappable("unreadable_order", f"line {line_id} has no quantity")
    try:
        quantity = int(quantity)
    except ValueError:
        raise Unmappable(
            "unreadable_order", f"line {line_id} has a non-numeric quantity {quantity!r}"
        ) from None
    return IncomingLine(
        line_id=line_id,
        sku=sku,
        quantity=quantity,
        title=title,
        unit_price=money(item.get("price"), currency, f"line {line_id} price"),
    )


def map_order(raw: Any, *, max_order_bytes: int = 1_000_000) -> IncomingOrder | UnreadableOrder:
    """Map one order from ``GET /orders`` to an ``IncomingOrder`` or an ``UnreadableOrder``.

    ``cancelled`` is set for the ``cancelled`` and ``refunded`` statuses.
    """
    if not isinstance(raw, Mapping):
        return UnreadableOrder(
            external_id="unknown",
            message=f"the store returned a {type(raw).__name__}, not an order",
        )
    external_id = str(raw.get("id", "unknown"))
    updated_at = parse_gmt(raw.get("date_modified_gmt"))
    size = len(json.dumps(raw, separators=(",", ":"), default=str).encode())
    if size > max_order_bytes:
        return UnreadableOrder(
            external_id=external_id,
            reason="order_too_large",
            message=f"order {external_id} is {size:,} bytes of JSON, over the "
            f"{max_order_bytes:,}-byte limit",
            updated_at=updated_at,
        )
    try:
        return _map(raw, external_id, updated_at)
    except Unmappable as exc:
        return UnreadableOrder(
            external_id=external_id,
            reason=exc.reason,
            message=f"order {external_id}: {exc.message}",
            updated_at=updated_at,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return UnreadableOrder(
            external_id=external_id,
            message=f"order {external_id}: {where or 'a field'} is invalid: {first.get('msg')}",
            updated_at=updated_at,
        )


def _map(raw: Mapping[str, Any], external_id: str, updated_at: datetime | None) -> IncomingOrder:
    if raw.get("id") is None:
        raise Unmappable("unreadable_order", "the order has no id")
    placed_at = parse_gmt(raw.get("date_created_gmt"))
    if placed_at is None or updated_at is None:
        raise Unmappable("unreadable_order", "date_created_gmt or date_modified_gmt is missing")
    currency = str(raw.get("currency") or "USD").upper()
    shipping = raw.get("shipping")
    if not isinstance(shipping, Mapping):
        raise Unmappable("missing_address", "the order has no shipping address")
    billing = raw.get("billing")
    items = raw.get("line_items")
    if not isinstance(items, list) or not items:
        raise Unmappable("unreadable_order", "the order has no line items")
    lines = tuple(map_line(item, currency, i) for i, item in enumerate(items))
    items_total = sum(
        (money(item.get("total"), currency, f"line {item['id']} total").cents for item in items),
        0,
    )
    totals = BuyerTotals(
        items=Money(cents=items_total, currency=currency),
        shipping=money(raw.get("shipping_total"), currency, "shipping_total"),
        tax=money(raw.get("total_tax"), currency, "total_tax"),
        total=money(raw.get("total"), currency, "total"),
    )
    return IncomingOrder(
        external_id=external_id,
        number=str(raw.get("number") or external_id),
        placed_at=placed_at,
        updated_at=updated_at,
        currency=currency,
        lines=lines,
        ship_to=map_address(shipping, billing if isinstance(billing, Mapping) else None),
        buyer_paid=totals,
        cancelled=str(raw.get("status", "")) in CANCELLED_STATUSES,
        note=str(raw.get("customer_note") or "")[:2000],
    )
