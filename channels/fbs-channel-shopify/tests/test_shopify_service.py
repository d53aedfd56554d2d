"""Fulfillment-service mode against the imitation, over real HTTP.

Specified here:

* the first poll registers the service once (with its own location), never twice;
* a fulfillment request fbs can fill is accepted and its order (the routed lines) returned;
* one it would reject is rejected with Shopify's reason: a non-US address as
  ``INTERNATIONAL_SHIPPING_UNAVAILABLE``, a line without SKU as ``INVALID_SKU``; the order
  still reaches the core, which rejects it with its own reason;
* a cancellation request is accepted (the order returned cancelled) when nothing has
  shipped, and rejected once a parcel was fulfilled;
* a parcel is fulfilled from the service's location.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fbs_core.domain import IncomingOrder, TrackingLine, TrackingPush, UnreadableOrder

from .conftest import AUSTIN


def service_channel(make_channel):
    return make_channel(mode="fulfillment_service", location=None, service_name="fbs")


def routed(shop, channel, lines=None, shipping=AUSTIN):
    channel.service_location()
    order = shop.add_order(
        lines=lines or [{"sku": "BRK-PAD-F", "quantity": 2, "price": "59.00"}], shipping=shipping
    )
    shop.shop.route_to_service(order.id, "fbs")
    return order


def request_status(shop, order):
    return [fo.request_status for fo in shop.shop.order_fulfillment_orders(order.id)]


def test_the_service_is_registered_once_with_its_own_location(shop, make_channel):
    first = service_channel(make_channel).service_location()
    again = service_channel(make_channel).service_location()

    assert first == again
    assert [s["serviceName"] for s in shop.shop.services.values()] == ["fbs"]
    assert first.name == "fbs"


def test_a_request_fbs_can_fill_is_accepted_and_its_order_returned(shop, make_channel):
    channel = service_channel(make_channel)
    order = routed(shop, channel)

    batch = channel.fetch_orders(None)

    [mapped] = batch.orders
    assert isinstance(mapped, IncomingOrder)
    assert [(x.sku, x.quantity) for x in mapped.lines] == [("BRK-PAD-F", 2)]
    assert request_status(shop, order) == ["ACCEPTED"]
    assert channel.fetch_orders(batch.cursor).orders[0].external_id == mapped.external_id


def test_requests_fbs_would_reject_are_rejected_with_shopifys_reason(shop, make_channel):
    channel = service_channel(make_channel)
    toronto = {**AUSTIN, "city": "Toronto", "state": "ON", "postcode": "M5H 1A1", "country": "CA"}
    abroad = routed(shop, channel, shipping=toronto)
    no_sku = routed(shop, channel, lines=[{"sku": None, "quantity": 1, "price": "5.00"}])

    mapped = {o.external_id: o for o in channel.fetch_orders(None).orders}

    assert request_status(shop, abroad) == ["REJECTED"]
    assert request_status(shop, no_sku) == ["REJECTED"]
    assert mapped[str(abroad.id)].ship_to.country == "CA"
    assert isinstance(mapped[str(no_sku.id)], UnreadableOrder)
    rejections = [r for r in shop.requests if r == "FbsRejectFulfillmentRequest"]
    assert rejections and shop.requests["FbsAcceptFulfillmentRequest"] == 0


def test_a_cancellation_request_is_accepted_until_something_ships(shop, make_channel):
    channel = service_channel(make_channel)
    waiting = routed(shop, channel)
    shipped = routed(shop, channel)
    channel.fetch_orders(None)
    line = shop.shop.orders[shipped.id].lines[0]
    channel.push_tracking(
        TrackingPush(
            idempotency_key="t-1",
            external_order_id=str(shipped.id),
            carrier="USPS",
            tracking_number="9400100000000000000000",
            shipped_at=datetime.now(UTC),
            lines=(TrackingLine(line_id=str(line.id), sku="BRK-PAD-F", quantity=1),),
            completes_order=False,
        )
    )
    shop.shop.request_cancellation(waiting.id)
    shop.shop.request_cancellation(shipped.id)

    mapped = {o.external_id: o for o in channel.fetch_orders(None).orders}

    assert request_status(shop, waiting) == ["CANCELLATION_ACCEPTED"]
    assert mapped[str(waiting.id)].cancelled
    assert request_status(shop, shipped) == ["CANCELLATION_REJECTED"]
    assert str(shipped.id) not in mapped or not mapped[str(shipped.id)].cancelled
    [fulfillment] = shop.fulfillments(shipped.id)
    [fo] = shop.shop.order_fulfillment_orders(shipped.id)
    assert fo.location_id == shop.shop.location_id("fbs")
    assert fulfillment.tracking[0]["company"] == "USPS"
