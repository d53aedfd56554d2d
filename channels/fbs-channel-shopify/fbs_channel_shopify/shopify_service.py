"""Fulfillment-service mode: fbs as a Shopify fulfillment service with its own location.

Shopify routes fulfillment orders to the service's location and sends a *fulfillment
request*; the service accepts or rejects each one, and later accepts or rejects
cancellation requests. The channel reads the routed fulfillment orders by assignment
status (``assignedFulfillmentOrders``):

* ``FULFILLMENT_REQUESTED``: mapped like any order (its lines are the fulfillment
  order's); rejected with Shopify's reason when fbs would reject it (a line fbs cannot
  ship, an address outside the US), accepted otherwise. Either way the order goes to the
  core, which records it rejected with the same reason or works on it;
* ``CANCELLATION_REQUESTED``: accepted, and the order handed to the core as cancelled,
  when nothing of it has shipped; rejected (it has shipped) otherwise;
* ``FULFILLMENT_ACCEPTED``: handed to the core again, unchanged unless Shopify changed
  it, so an order accepted by a poll whose batch was then lost is never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from fbs_core.domain import IncomingOrder, UnreadableOrder


class AssignmentStatus(StrEnum):
    """``FulfillmentOrderAssignmentStatus`` values the service reads."""

    requested = "FULFILLMENT_REQUESTED"
    cancellation_requested = "CANCELLATION_REQUESTED"
    accepted = "FULFILLMENT_ACCEPTED"


REJECTION_REASONS: dict[str, str] = {
    "missing_sku": "INVALID_SKU",
    "gift_card_line": "INELIGIBLE_PRODUCT",
    "no_shipping_line": "INELIGIBLE_PRODUCT",
    "not_shipped_by_carrier": "INELIGIBLE_PRODUCT",
    "non_us_destination": "INTERNATIONAL_SHIPPING_UNAVAILABLE",
    "missing_address": "INCORRECT_ADDRESS",
}
"""fbs's reason codes → ``FulfillmentOrderRejectionReason``; anything else is ``OTHER``."""


def order_node_of(fulfillment_order: Mapping[str, Any]) -> dict[str, Any]:
    """An ``Order`` node whose lines are the routed fulfillment order's, for the mapping."""
    items = (fulfillment_order.get("lineItems") or {}).get("nodes") or []
    lines = [
        {**(item.get("lineItem") or {}), "currentQuantity": item.get("totalQuantity")}
        for item in items
    ]
    own = {
        **fulfillment_order,
        "lineItems": {
            "nodes": [
                {
                    "id": item.get("id"),
                    "remainingQuantity": item.get("remainingQuantity"),
                    "totalQuantity": item.get("totalQuantity"),
                    "lineItem": {"id": (item.get("lineItem") or {}).get("id")},
                }
                for item in items
            ]
        },
    }
    own.pop("order", None)
    return {
        **(fulfillment_order.get("order") or {}),
        "lineItems": {"nodes": lines},
        "fulfillmentOrders": {"nodes": [own]},
    }


def rejection(mapped: IncomingOrder | UnreadableOrder) -> tuple[str, str] | None:
    """(Shopify's rejection reason, a message) when fbs would not fulfil the order."""
    if isinstance(mapped, UnreadableOrder):
        return REJECTION_REASONS.get(mapped.reason, "OTHER"), mapped.message
    if mapped.cancelled:
        return "OTHER", "the order is cancelled"
    address = mapped.ship_to
    if address is None:
        return "INCORRECT_ADDRESS", "the order has no shipping address"
    if (address.country or "").upper() != "US":
        return (
            "INTERNATIONAL_SHIPPING_UNAVAILABLE",
            f"fbs ships only to addresses in the United States, not {address.country or '?'}",
        )
    return None


def has_shipped(fulfillment_order: Mapping[str, Any]) -> bool:
    """Whether any unit of the fulfillment order was fulfilled."""
    return any(
        (item.get("remainingQuantity") or 0) < (item.get("totalQuantity") or 0)
        for item in (fulfillment_order.get("lineItems") or {}).get("nodes") or []
    )
