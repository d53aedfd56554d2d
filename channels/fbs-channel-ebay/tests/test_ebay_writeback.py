"""Tracking out: each parcel becomes one shipping fulfillment with its line items.

Specified here:

* a parcel is sent as createShippingFulfillment with the parcel's line item ids and
  quantities, eBay's carrier code, the tracking number and the shipped date;
* two parcels of one order give two fulfillments with the right line items;
* a retry after a lost answer finds the first fulfillment and creates none;
* carriers the core knows map to eBay's codes; others go as the warehouse's name;
* every request and answer conformed to the official document.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fbs_channel_ebay.ebay_carriers import ebay_carrier_code
from fbs_core.domain import TrackingLine, TrackingPush
from fbs_core.domain.carriers import identify_carrier
from fbs_core.errors import RetriableError

from .conftest import AUSTIN, line


def push(order, number, lines, carrier="UPS Ground"):
    items = {li["sku"]: li for li in order["lineItems"]}
    return TrackingPush(
        idempotency_key=f"p-{number}",
        external_order_id=order["orderId"],
        carrier=carrier,
        tracking_number=number,
        shipped_at=datetime(2030, 1, 2, 15, 30, tzinfo=UTC),
        lines=tuple(
            TrackingLine(
                line_id=items[sku]["lineItemId"],
                sku=sku,
                quantity=quantity,
                channel_data={"line_item_id": items[sku]["lineItemId"]},
            )
            for sku, quantity in lines
        ),
        completes_order=False,
    )


def test_two_parcels_become_two_fulfillments_with_their_lines(imitation, channel):
    order = imitation.add_order([line("A", 2), line("B", 1)], AUSTIN)
    ids = {li["sku"]: li["lineItemId"] for li in order["lineItems"]}

    first = channel.push_tracking(push(order, "1ZAAA", [("A", 2)]))
    second = channel.push_tracking(push(order, "9400BBB", [("B", 1)], carrier="USPS"))

    found = imitation.fulfillments(order["orderId"])
    assert [(f["shipmentTrackingNumber"], f["lineItems"]) for f in found] == [
        ("1ZAAA", [{"lineItemId": ids["A"], "quantity": 2}]),
        ("9400BBB", [{"lineItemId": ids["B"], "quantity": 1}]),
    ]
    assert [f["shippingCarrierCode"] for f in found] == ["UPS", "USPS"]
    assert found[0]["shippedDate"] == "2030-01-02T15:30:00.000Z"
    assert {first.reference, second.reference} == {f["fulfillmentId"] for f in found}
    assert imitation.order(order["orderId"])["orderFulfillmentStatus"] == "FULFILLED"
    assert imitation.contract_problems == []


def test_a_retry_after_a_lost_answer_creates_no_second_fulfillment(imitation, channel):
    order = imitation.add_order([line("A")], AUSTIN)
    imitation.lose_next_answer("POST", "/shipping_fulfillment")
    parcel = push(order, "1ZLOST", [("A", 1)])

    with pytest.raises(RetriableError):
        channel.push_tracking(parcel)
    again = channel.push_tracking(parcel)

    assert again.already_present is True
    assert len(imitation.fulfillments(order["orderId"])) == 1
    assert imitation.answers_lost == 1 and imitation.duplicate_effects == 0


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("UPS Ground", "UPS"),
        ("U.S. Postal Service", "USPS"),
        ("Federal Express", "FedEx"),
        ("DHL eCommerce", "DHL"),
        ("OnTrac", "OnTrac"),
        ("Estes Express", "EstesExpress"),
    ],
)
def test_carriers_map_to_ebay_codes(name, code):
    assert ebay_carrier_code(identify_carrier(name)) == code
