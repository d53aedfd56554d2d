"""Map a Sell Fulfillment ``Order`` (getOrders) to fbs's :class:`IncomingOrder`.

Fields read (sell_fulfillment_v1_oas3.json, schemas ``Order``, ``LineItem``,
``FulfillmentStartInstruction``, ``ShippingStep``, ``ExtendedContact``, ``Address``,
``PricingSummary``, ``CancelStatus``):

* the ship-to of the first ``fulfillmentStartInstructions`` entry's ``shippingStep``. An
  eBay International Shipping order ships to eBay's US hub and carries
  ``shipToReferenceId``; the hub needs that reference on the label, so it is written on
  the address's second line (``Reference #<id>``, unless eBay already put it in the
  address) and kept as the order's ``ship_to_reference_id`` channel data;
* each line's ``sku``, ``quantity`` and unit price (``lineItemCost`` / ``quantity``); a
  line from a listing without a SKU makes the order unreadable with a reason naming the
  listing (``legacyItemId``), since fbs buys parts by part number;
* what the buyer paid (``pricingSummary``); when ``ebayCollectAndRemitTax`` is true eBay
  collects and remits the sales tax, so it is not the merchant's money: the tax is zero
  and the total leaves it out;
* ``lineItemId`` (and ``legacyItemId``) as each line's channel data, the buyer's eBay
  ``username`` as the order's (``buyer``: marketplace account deletion names it), and the
  earliest ``lineItemFulfillmentInstructions.shipByDate`` (``ship_by``);
* ``cancelStatus``: ``CANCELED`` is a cancelled order; a cancellation requested or in
  progress (``IN_PROGRESS``, or a ``cancelRequests`` entry still ``REQUESTED``) makes a new
  order wait, stored with the reason ``cancel_requested``, until eBay decides.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from fbs_core.domain import (
    Address,
    BuyerTotals,
    IncomingLine,
    IncomingOrder,
    Money,
    UnreadableOrder,
)

MAX_ORDER_BYTES = 1_000_000
REFERENCE_PREFIX = "Reference #"


class CancelState(StrEnum):
    """``CancelStatus.cancelState`` values (CancelStateEnum)."""

    canceled = "CANCELED"
    in_progress = "IN_PROGRESS"
    none_requested = "NONE_REQUESTED"


class CancelRequestState(StrEnum):
    """``CancelRequest.cancelRequestState`` values (CancelRequestStateEnum)."""

    completed = "COMPLETED"
    rejected = "REJECTED"
    requested = "REQUESTED"


class Unmappable(ValueError):
    """The order cannot be mapped; ``reason`` is the code it is stored under."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def parse_time(value: Any) -> datetime:
    """Parse eBay's ISO 8601 UTC stamp (``2024-05-01T10:00:00.000Z``)."""
    if not isinstance(value, str) or not value:
        raise ValueError("missing timestamp")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def ebay_time(moment: datetime) -> str:
    """Format ``moment`` as eBay wants it: UTC, milliseconds, ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _money(amount: Any, currency: str, what: str) -> Money:
    if not isinstance(amount, dict):
        return Money.zero(currency)
    try:
        return Money.from_decimal(Decimal(str(amount.get("value", "0"))), currency)
    except (InvalidOperation, ValueError):
        raise Unmappable("unreadable_order", f"{what} is not an amount: {amount!r}") from None


AWAITING_CANCEL = (
    "A cancellation of this order was requested on eBay; fbs waits for eBay's decision "
    "before buying anything."
)


def cancellation(raw: dict[str, Any]) -> CancelState:
    """Whether the order is cancelled, waiting for a cancellation decision, or neither."""
    status = raw.get("cancelStatus") if isinstance(raw.get("cancelStatus"), dict) else {}
    state = str(status.get("cancelState") or CancelState.none_requested)
    if state == CancelState.canceled:
        return CancelState.canceled
    requests = status.get("cancelRequests") or []
    pending = any(
        isinstance(r, dict) and r.get("cancelRequestState") == CancelRequestState.requested
        for r in requests
    )
    if state == CancelState.in_progress or pending:
        return CancelState.in_progress
    return CancelState.none_requested


def _ship_step(raw: dict[str, Any]) -> dict[str, Any]:
    for instruction in raw.get("fulfillmentStartInstructions") or []:
        if isinstance(instruction, dict) and isinstance(instruction.get("shippingStep"), dict):
            return instruction["shippingStep"]
    return {}


def map_address(step: dict[str, Any]) -> Address | None:
    """The ship-to of a ``ShippingStep``, with an EIS reference on the second line."""
    contact = step.get("shipTo")
    if not isinstance(contact, dict):
        return None
    address = (
        contact.get("contactAddress") if isinstance(contact.get("contactAddress"), dict) else {}
    )
    phone = contact.get("primaryPhone") if isinstance(contact.get("primaryPhone"), dict) else {}
    line2 = address.get("addressLine2") or None
    reference = step.get("shipToReferenceId")
    if reference:
        written = " ".join(
            str(v) for v in (contact.get("fullName"), address.get("addressLine1"), line2) if v
        )
        if str(reference) not in written:
            tag = f"{REFERENCE_PREFIX}{reference}"
            line2 = f"{line2} {tag}" if line2 else tag
    return Address(
        name=contact.get("fullName") or None,
        company=contact.get("companyName") or None,
        line1=address.get("addressLine1") or None,
        line2=line2,
        city=address.get("city") or None,
        region=address.get("stateOrProvince") or None,
        postal_code=address.get("postalCode") or None,
        country=address.get("countryCode") or None,
        phone=phone.get("phoneNumber") or None,
        email=contact.get("email") or None,
    )


def _line(raw: dict[str, Any], currency: str, position: int) -> IncomingLine:
    line_item_id = str(raw.get("lineItemId") or "")
    if not line_item_id:
        raise Unmappable("unreadable_order", f"Line {position} has no lineItemId.")
    quantity = raw.get("quantity")
    if not isinstance(quantity, int):
        raise Unmappable("unreadable_order", f"Line item {line_item_id} has no whole quantity.")
    sku = str(raw.get("sku") or "").strip()
    if not sku:
        listing = raw.get("legacyItemId") or "unknown"
        variation = raw.get("legacyVariationId")
        which = f"listing {listing}" + (f" (variation {variation})" if variation else "")
        raise Unmappable(
            "listing_without_sku",
            f"Line item {line_item_id} ({raw.get('title') or 'untitled'}) comes from {which}, "
            "which has no SKU. Give the listing the part number as its SKU (custom label) "
            "so fbs knows what to buy, then release the order.",
        )
    cost = _money(raw.get("lineItemCost"), currency, f"lineItemCost of {line_item_id}")
    unit = Money(
        cents=round(cost.cents / quantity) if quantity > 0 else cost.cents, currency=currency
    )
    data = {"line_item_id": line_item_id}
    if raw.get("legacyItemId"):
        data["legacy_item_id"] = str(raw["legacyItemId"])
    ship_by = _ship_by(raw)
    if ship_by:
        data["ship_by"] = ship_by
    return IncomingLine(
        line_id=line_item_id,
        sku=sku,
        quantity=quantity,
        title=str(raw.get("title") or "")[:255],
        unit_price=unit,
        channel_data=data,
    )


def _ship_by(line: dict[str, Any]) -> str | None:
    instructions = line.get("lineItemFulfillmentInstructions")
    if not isinstance(instructions, dict) or not instructions.get("shipByDate"):
        return None
    try:
        return parse_time(instructions["shipByDate"]).isoformat()
    except ValueError:
        return None


def _totals(raw: dict[str, Any], currency: str) -> BuyerTotals:
    summary = raw.get("pricingSummary") if isinstance(raw.get("pricingSummary"), dict) else {}
    items = _money(summary.get("priceSubtotal"), currency, "priceSubtotal") + _money(
        summary.get("priceDiscount"), currency, "priceDiscount"
    )
    shipping = _money(summary.get("deliveryCost"), currency, "deliveryCost") + _money(
        summary.get("deliveryDiscount"), currency, "deliveryDiscount"
    )
    tax = _money(summary.get("tax"), currency, "tax")
    total = _money(summary.get("total"), currency, "total")
    if raw.get("ebayCollectAndRemitTax") is True:
        # eBay collects the tax from the buyer and remits it: not the merchant's money.
        total = total - tax
        tax = Money.zero(currency)
    return BuyerTotals(items=items, shipping=shipping, tax=tax, total=total)


def map_order(raw: Any) -> IncomingOrder | UnreadableOrder:
    """Map one ``Order``; anything that cannot be read comes back as unreadable."""
    external_id = str(raw.get("orderId") or "") if isinstance(raw, dict) else ""
    updated: datetime | None = None
    try:
        if not external_id:
            raise Unmappable("unreadable_order", "The order has no orderId.")
        try:
            updated = parse_time(raw.get("lastModifiedDate"))
            placed = parse_time(raw.get("creationDate"))
        except ValueError:
            raise Unmappable(
                "unreadable_order", "The order's creationDate or lastModifiedDate is unreadable."
            ) from None
        if len(json.dumps(raw)) > MAX_ORDER_BYTES:
            raise Unmappable("order_too_large", "The order is too large to store.")
        state = cancellation(raw)
        summary = raw.get("pricingSummary") if isinstance(raw.get("pricingSummary"), dict) else {}
        total = summary.get("total") if isinstance(summary.get("total"), dict) else {}
        currency = str(total.get("currency") or "USD").upper()
        lines = tuple(
            _line(line, currency, position)
            for position, line in enumerate(raw.get("lineItems") or [], start=1)
            if isinstance(line, dict)
        )
        step = _ship_step(raw)
        data: dict[str, str] = {}
        buyer = raw.get("buyer") if isinstance(raw.get("buyer"), dict) else {}
        if buyer.get("username"):
            data["buyer"] = str(buyer["username"])
        if step.get("shipToReferenceId"):
            data["ship_to_reference_id"] = str(step["shipToReferenceId"])
        ship_by = sorted(
            line.channel_data["ship_by"] for line in lines if "ship_by" in line.channel_data
        )
        if ship_by:
            data["ship_by"] = ship_by[0]
        if raw.get("ebayCollectAndRemitTax") is True:
            data["ebay_collects_tax"] = "true"
        return IncomingOrder(
            ship_by=parse_time(ship_by[0]) if ship_by else None,
            external_id=external_id,
            number=str(raw.get("salesRecordReference") or external_id),
            placed_at=placed,
            updated_at=updated,
            currency=currency,
            lines=lines,
            ship_to=map_address(step),
            buyer_paid=_totals(raw, currency),
            cancelled=state is CancelState.canceled,
            awaiting=AWAITING_CANCEL if state is CancelState.in_progress else None,
            note=str(raw.get("buyerCheckoutNotes") or "")[:1000],
            channel_data=data,
        )
    except Unmappable as problem:
        return UnreadableOrder(
            external_id=external_id or "unknown",
            reason=problem.reason,
            message=problem.message,
            updated_at=updated,
        )
