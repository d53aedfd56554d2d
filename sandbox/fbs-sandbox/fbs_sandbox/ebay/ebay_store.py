"""The imitation's state: orders as eBay shows them, shipping fulfillments, tokens, quota.

Orders are kept in the shape of the Sell Fulfillment ``Order`` schema
(sell_fulfillment_v1_oas3.json) so getOrders and getOrder return them as they are; the
helpers here build them, derive the fulfillment statuses from the fulfillments added, and
apply cancellations the way ``CancelStatus`` reports them.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

EIS_HUB = {
    "fullName": "eBay International Shipping",
    "contactAddress": {
        "addressLine1": "1850 Airport Exchange Blvd",
        "addressLine2": "Suite 200",
        "city": "Erlanger",
        "stateOrProvince": "KY",
        "postalCode": "41025",
        "countryCode": "US",
    },
}
"""The US hub an eBay International Shipping order is addressed to."""


def stamp(moment: datetime) -> str:
    """EBay's timestamp form: UTC with milliseconds and ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_stamp(value: str) -> datetime:
    """Read an eBay timestamp (``Z`` or an offset)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def amount(value: Decimal | str, currency: str = "USD") -> dict[str, str]:
    """An ``Amount``."""
    return {"currency": currency, "value": f"{Decimal(str(value)):.2f}"}


@dataclass
class Token:
    """An access token the imitation issued."""

    value: str
    expires_at: datetime
    user: bool


@dataclass
class StoreState:
    """Everything the imitation remembers; guarded by the imitation's lock."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    fulfillments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    refresh_revoked: bool = False
    quota_day: str = ""
    calls_today: int = 0
    rate_limited: int = 0
    duplicate_effects: int = 0
    answers_lost: int = 0
    token_grants: int = 0
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def issue(self, now: datetime, lifetime: int, *, user: bool) -> Token:
        """A new access token valid for ``lifetime`` seconds."""
        token = Token(
            value=("v^1.1#i^1#" if user else "v^1.1#a^1#") + secrets.token_urlsafe(24),
            expires_at=now + timedelta(seconds=lifetime),
            user=user,
        )
        self.tokens[token.value] = token
        self.token_grants += 1
        return token


def build_order(
    order_id: str,
    now: datetime,
    *,
    seller_id: str,
    buyer: str,
    lines: list[dict[str, Any]],
    ship_to: dict[str, Any],
    shipping: str,
    tax: str,
    ebay_collects_tax: bool,
    eis_reference: str | None,
    ship_by: datetime,
) -> dict[str, Any]:
    """An ``Order`` as getOrder shows a paid order that nothing has shipped of yet."""
    line_items = []
    subtotal = Decimal(0)
    for position, line in enumerate(lines, start=1):
        quantity = int(line["quantity"])
        cost = Decimal(str(line["price"])) * quantity
        subtotal += cost
        item: dict[str, Any] = {
            "lineItemId": f"{order_id.replace('-', '')}{position:02d}",
            "legacyItemId": str(line.get("legacy_item_id") or f"1100{position:08d}"),
            "title": str(line.get("title") or line.get("sku") or "Part"),
            "quantity": quantity,
            "lineItemCost": amount(cost),
            "total": amount(cost),
            "soldFormat": "FIXED_PRICE",
            "lineItemFulfillmentStatus": "NOT_STARTED",
            "listingMarketplaceId": "EBAY_US",
            "purchaseMarketplaceId": "EBAY_US",
            "appliedPromotions": [],
            "taxes": [],
            "refunds": [],
            "deliveryCost": {"shippingCost": amount(0)},
            "lineItemFulfillmentInstructions": {
                "shipByDate": stamp(ship_by),
                "guaranteedDelivery": False,
            },
        }
        if line.get("sku"):
            item["sku"] = str(line["sku"])
        if ebay_collects_tax and Decimal(tax) > 0:
            item["ebayCollectAndRemitTaxes"] = [
                {
                    "taxType": "STATE_SALES_TAX",
                    "amount": amount(Decimal(tax) / len(lines)),
                    "collectionMethod": "NET",
                }
            ]
        line_items.append(item)
    total = subtotal + Decimal(shipping) + Decimal(tax)
    step: dict[str, Any] = {"shippingCarrierCode": "USPS", "shippingServiceCode": "USPSPriority"}
    instruction: dict[str, Any] = {
        "fulfillmentInstructionsType": "SHIP_TO",
        "minEstimatedDeliveryDate": stamp(ship_by + timedelta(days=2)),
        "maxEstimatedDeliveryDate": stamp(ship_by + timedelta(days=5)),
        "ebaySupportedFulfillment": False,
    }
    if eis_reference:
        step["shipTo"] = EIS_HUB
        step["shipToReferenceId"] = eis_reference
        instruction["ebaySupportedFulfillment"] = True
        instruction["finalDestinationAddress"] = ship_to.get("contactAddress", {})
    else:
        step["shipTo"] = ship_to
    instruction["shippingStep"] = step
    order: dict[str, Any] = {
        "orderId": order_id,
        "legacyOrderId": order_id,
        "creationDate": stamp(now),
        "lastModifiedDate": stamp(now),
        "orderFulfillmentStatus": "NOT_STARTED",
        "orderPaymentStatus": "PAID",
        "sellerId": seller_id,
        "buyer": {"username": buyer},
        "salesRecordReference": str(1000 + len(order_id)),
        "pricingSummary": {
            "priceSubtotal": amount(subtotal),
            "deliveryCost": amount(shipping),
            "tax": amount(tax),
            "total": amount(total),
        },
        "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
        "paymentSummary": {"totalDueSeller": amount(total), "payments": [], "refunds": []},
        "fulfillmentStartInstructions": [instruction],
        "fulfillmentHrefs": [],
        "lineItems": line_items,
    }
    if ebay_collects_tax:
        order["ebayCollectAndRemitTax"] = True
    return order


def refresh_statuses(order: dict[str, Any], fulfillments: list[dict[str, Any]]) -> None:
    """Derive the line and order fulfillment statuses from the fulfillments added."""
    shipped: dict[str, int] = {}
    for fulfillment in fulfillments:
        for ref in fulfillment["lineItems"]:
            shipped[ref["lineItemId"]] = shipped.get(ref["lineItemId"], 0) + int(ref["quantity"])
    states = []
    for line in order["lineItems"]:
        done = shipped.get(line["lineItemId"], 0)
        state = (
            "FULFILLED" if done >= line["quantity"] else "IN_PROGRESS" if done else "NOT_STARTED"
        )
        line["lineItemFulfillmentStatus"] = state
        states.append(state)
    if all(s == "FULFILLED" for s in states):
        order["orderFulfillmentStatus"] = "FULFILLED"
    elif any(s != "NOT_STARTED" for s in states):
        order["orderFulfillmentStatus"] = "IN_PROGRESS"
    else:
        order["orderFulfillmentStatus"] = "NOT_STARTED"
