"""Map a Trading API ``OrderType`` (GetOrders) to fbs's :class:`IncomingOrder`.

The same domain mapping as :mod:`.ebay_mapping`, from the Trading reference's fields:

* ship-to: ``ShippingAddress``; for an eBay International Shipping order
  (``IsMultiLegShipping``) the first leg's ``MultiLegShippingDetails.
  SellerShipmentToLogisticsProvider.ShipToAddress`` (eBay's hub) with its ``ReferenceID``
  written on the second line and kept as ``ship_to_reference_id``;
* each ``Transaction``: ``Variation.SKU`` or ``Item.SKU`` (none: unreadable, naming
  ``Item.ItemID``), ``QuantityPurchased``, ``TransactionPrice`` (per unit), and as channel
  data ``line_item_id`` (``OrderLineItemID``), ``legacy_item_id`` and ``transaction_id``,
  and ``ship_by`` from ``ShippingServiceSelected.ShippingPackageInfo.HandleByTime``;
* money: ``Subtotal``, ``ShippingServiceSelected.ShippingServiceCost``, the sales tax
  (``ShippingDetails.SalesTax.SalesTaxAmount``), ``Total``; when eBay collects and remits
  the tax (``eBayCollectAndRemitTax``) the tax is not the merchant's money;
* status: ``Completed`` is a paid order; ``Cancelled`` (or ``CancelStatus``
  ``CancelComplete``) a cancelled one; ``CancelPending`` or a ``CancelRequested`` waits
  as ``cancel_requested``; anything else (unpaid ``Active``) is not an order to fulfil yet.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree as ET

from fbs_core.domain import (
    Address,
    BuyerTotals,
    IncomingLine,
    IncomingOrder,
    Money,
    UnreadableOrder,
)

from .ebay_mapping import AWAITING_CANCEL, REFERENCE_PREFIX, Unmappable, parse_time
from .ebay_trading_client import children, text

PAID = "Completed"
CANCELLED = frozenset({"Cancelled"})
CANCEL_PENDING = frozenset({"CancelPending"})
CANCEL_STATUS_DONE = frozenset({"CancelComplete", "CancelCompleted", "CancelClosedWithRefund"})
CANCEL_STATUS_PENDING = frozenset({"CancelRequested", "CancelPending"})


def _money(element: ET.Element | None, path: tuple[str, ...], currency: str) -> Money:
    node = element
    for name in path:
        node = node.find(f"{{urn:ebay:apis:eBLBaseComponents}}{name}") if node is not None else None
    if node is None or not (node.text or "").strip():
        return Money.zero(currency)
    try:
        return Money.from_decimal(Decimal(node.text.strip()), currency)
    except (InvalidOperation, ValueError):
        raise Unmappable("unreadable_order", f"{'.'.join(path)} is not an amount") from None


def _currency(order: ET.Element) -> str:
    node = order.find("{urn:ebay:apis:eBLBaseComponents}Total")
    return (node.get("currencyID") if node is not None else None) or "USD"


def is_shipped(order: ET.Element) -> bool:
    """Whether eBay says every line of the order shipped (``ShippedTime`` is set)."""
    return bool(text(order, "ShippedTime"))


def _address(node: ET.Element | None, email: str | None) -> Address | None:
    if node is None:
        return None
    line2 = text(node, "Street2")
    reference = text(node, "ReferenceID")
    if reference and reference not in " ".join(
        v for v in (text(node, "Name"), text(node, "Street1"), line2) if v
    ):
        tag = f"{REFERENCE_PREFIX}{reference}"
        line2 = f"{line2} {tag}" if line2 else tag
    phone = text(node, "Phone")
    return Address(
        name=text(node, "Name"),
        line1=text(node, "Street1"),
        line2=line2,
        city=text(node, "CityName"),
        region=text(node, "StateOrProvince"),
        postal_code=text(node, "PostalCode"),
        country=text(node, "Country"),
        phone=phone if phone and phone != "Invalid Request" else None,
        email=email if email and email != "Invalid Request" else None,
    )


def _line(transaction: ET.Element, currency: str, position: int) -> IncomingLine:
    item_id = text(transaction, "Item", "ItemID") or ""
    transaction_id = text(transaction, "TransactionID") or ""
    line_item_id = text(transaction, "OrderLineItemID") or f"{item_id}-{transaction_id}"
    if not item_id or not transaction_id:
        raise Unmappable("unreadable_order", f"Line {position} has no ItemID or TransactionID.")
    try:
        quantity = int(text(transaction, "QuantityPurchased") or "")
    except ValueError:
        raise Unmappable(
            "unreadable_order", f"Line item {line_item_id} has no whole quantity."
        ) from None
    sku = (text(transaction, "Variation", "SKU") or text(transaction, "Item", "SKU") or "").strip()
    if not sku:
        raise Unmappable(
            "listing_without_sku",
            f"Line item {line_item_id} ({text(transaction, 'Item', 'Title') or 'untitled'}) "
            f"comes from listing {item_id}, which has no SKU. Give the listing the part number "
            "as its SKU (custom label) so fbs knows what to buy, then release the order.",
        )
    data = {
        "line_item_id": line_item_id,
        "legacy_item_id": item_id,
        "transaction_id": transaction_id,
    }
    handle_by = text(transaction, "ShippingServiceSelected", "ShippingPackageInfo", "HandleByTime")
    if handle_by:
        with contextlib.suppress(ValueError):
            data["ship_by"] = parse_time(handle_by).isoformat()
    return IncomingLine(
        line_id=line_item_id,
        sku=sku,
        quantity=quantity,
        title=(text(transaction, "Item", "Title") or "")[:255],
        unit_price=_money(transaction, ("TransactionPrice",), currency),
        channel_data=data,
    )


def map_trading_order(order: ET.Element) -> IncomingOrder | UnreadableOrder | None:
    """Map one ``Order``; None for one that is not paid yet (nothing to fulfil)."""
    external_id = text(order, "OrderID") or ""
    status = text(order, "OrderStatus") or ""
    cancel = text(order, "CancelStatus") or ""
    updated = None
    try:
        if not external_id:
            raise Unmappable("unreadable_order", "The order has no OrderID.")
        try:
            updated = parse_time(text(order, "CheckoutStatus", "LastModifiedTime"))
            placed = parse_time(text(order, "CreatedTime"))
        except ValueError:
            raise Unmappable(
                "unreadable_order", "The order's CreatedTime or LastModifiedTime is unreadable."
            ) from None
        cancelled = status in CANCELLED or cancel in CANCEL_STATUS_DONE
        awaiting = not cancelled and (status in CANCEL_PENDING or cancel in CANCEL_STATUS_PENDING)
        if status != PAID and not cancelled and not awaiting:
            return None
        currency = _currency(order)
        transactions = children(order, "TransactionArray", "Transaction")
        lines = tuple(_line(t, currency, n) for n, t in enumerate(transactions, start=1))
        email = next(
            (text(t, "Buyer", "Email") for t in transactions if text(t, "Buyer", "Email")), None
        )
        multi_leg = text(order, "IsMultiLegShipping") == "true"
        hub = order.find(
            "/".join(
                f"{{urn:ebay:apis:eBLBaseComponents}}{n}"
                for n in (
                    "MultiLegShippingDetails",
                    "SellerShipmentToLogisticsProvider",
                    "ShipToAddress",
                )
            )
        )
        ship_node = (
            hub
            if multi_leg and hub is not None
            else order.find("{urn:ebay:apis:eBLBaseComponents}ShippingAddress")
        )
        collected = text(order, "eBayCollectAndRemitTax") == "true" or any(
            text(t, "eBayCollectAndRemitTax") == "true" for t in transactions
        )
        tax = _money(order, ("ShippingDetails", "SalesTax", "SalesTaxAmount"), currency)
        total = _money(order, ("Total",), currency)
        if collected:
            total, tax = total - tax, Money.zero(currency)
        data: dict[str, str] = {}
        if text(order, "BuyerUserID"):
            data["buyer"] = text(order, "BuyerUserID") or ""
        reference = text(hub, "ReferenceID") if multi_leg else None
        if reference:
            data["ship_to_reference_id"] = reference
        ship_by = sorted(
            line.channel_data["ship_by"] for line in lines if "ship_by" in line.channel_data
        )
        if ship_by:
            data["ship_by"] = ship_by[0]
        if collected:
            data["ebay_collects_tax"] = "true"
        return IncomingOrder(
            awaiting=AWAITING_CANCEL if awaiting else None,
            ship_by=parse_time(ship_by[0]) if ship_by else None,
            external_id=external_id,
            number=text(order, "ShippingDetails", "SalesRecordNumber") or external_id,
            placed_at=placed,
            updated_at=updated,
            currency=currency,
            lines=lines,
            ship_to=_address(ship_node, email),
            buyer_paid=BuyerTotals(
                items=_money(order, ("Subtotal",), currency),
                shipping=_money(
                    order, ("ShippingServiceSelected", "ShippingServiceCost"), currency
                ),
                tax=tax,
                total=total,
            ),
            cancelled=cancelled,
            channel_data=data,
        )
    except Unmappable as problem:
        return UnreadableOrder(
            external_id=external_id or "unknown",
            reason=problem.reason,
            message=problem.message,
            updated_at=updated,
        )
