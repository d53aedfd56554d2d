"""The Shopify channel against the Shopify imitation, over real HTTP.

Specified here:

* options: ``shop`` must be a ``*.myshopify.com`` domain (the error gives an example);
  the store identity is the shop domain; limits are the shop's cost bucket;
* intake maps address, SKUs, ``currentQuantity``, prices, shipping and tax, the order's
  name, and each line's fulfillment-order line item ids as channel data;
* a line without SKU, a gift card, a line needing no shipping and a pickup order are
  unreadable with their own reasons; a removed line is gone; ``cancelledAt`` cancels;
* paging: a poll reads at most ``max_pages_per_poll`` pages and returns ``more`` with a
  cursor that continues the same sweep; the next sweep overlaps the last;
* an order of 250 lines is read whole (further pages of its lines);
* tracking: only the parcel's lines and quantities are fulfilled, with the carrier's
  Shopify name; a parcel whose number is on the order is not fulfilled again; a fulfillment
  order on hold or moved elsewhere is a FulfillmentBlocked error saying so;
* throttling: a THROTTLED answer is waited out exactly as the bucket needs, then sent again;
* ``check`` lists the shop's locations when ``location`` is wrong;
* ``subscribe`` creates the order webhooks once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from fbs_channel_shopify.shopify_channel import read_cursor
from fbs_channel_shopify.shopify_fulfil import FulfillmentBlocked
from fbs_channel_shopify.shopify_options import ShopifyOptions
from fbs_core.domain import IncomingOrder, TrackingLine, TrackingPush, UnreadableOrder
from fbs_core.errors import FatalError, RetriableError

from .conftest import AUSTIN, SHOP, TOKEN


def line(sku="BRK-PAD-F", quantity=1, price="59.00", **extra):
    return {"sku": sku, "quantity": quantity, "price": price, **extra}


def orders_of(batch):
    return {o.external_id: o for o in batch.orders}


def push_for(order, lines, number="1Z999", carrier="UPS Ground"):
    return TrackingPush(
        idempotency_key=f"t-{number}",
        external_order_id=str(order.id),
        carrier=carrier,
        tracking_number=number,
        shipped_at=datetime.now(UTC),
        lines=tuple(lines),
        completes_order=False,
    )


def test_shop_must_be_a_myshopify_domain_and_the_error_shows_an_example():
    with pytest.raises(ValidationError) as caught:
        ShopifyOptions(shop="https://shop.example.com", access_token="x")

    assert 'shop = "acme-parts.myshopify.com"' in str(caught.value)
    assert ShopifyOptions(shop="Acme.MyShopify.com", access_token="x").shop == "acme.myshopify.com"


def test_identity_and_limits_are_the_shops(channel):
    assert channel.store_identity() == f"shopify:{SHOP}"
    assert channel.rate_limit_key() == f"shopify:{SHOP}"
    limits = channel.rate_limits()
    assert (limits.cost_points_per_second, limits.cost_points_capacity) == (100.0, 2000.0)


def test_an_order_is_mapped_with_its_current_lines_money_and_channel_data(shop, channel):
    order = shop.add_order(
        lines=[line(quantity=2), line("OIL-FLT-5W30", 3, "12.99")],
        shipping={**AUSTIN, "phone": "512-555-0100"},
        shipping_price="15.00",
        tax="4.10",
    )
    shop.shop.edit_quantity(order.id, 1, 1)

    mapped = orders_of(channel.fetch_orders(None))[str(order.id)]

    assert isinstance(mapped, IncomingOrder)
    assert mapped.number == order.name
    assert [(x.sku, x.quantity, x.unit_price.cents) for x in mapped.lines] == [
        ("BRK-PAD-F", 2, 5900),
        ("OIL-FLT-5W30", 1, 1299),
    ]
    assert mapped.buyer_paid.items.cents == 2 * 5900 + 1299
    assert (mapped.buyer_paid.shipping.cents, mapped.buyer_paid.tax.cents) == (1500, 410)
    address = mapped.ship_to
    assert (address.name, address.region, address.postal_code, address.country) == (
        "Pat Buyer",
        "TX",
        "78701",
        "US",
    )
    [fo] = shop.shop.order_fulfillment_orders(order.id)
    assert mapped.lines[0].channel_data["fulfillment_order_line_items"] == (
        f"gid://shopify/FulfillmentOrderLineItem/{fo.lines[0].id}"
    )
    assert not mapped.cancelled


@pytest.mark.parametrize(
    ("lines", "extra", "reason"),
    [
        ([line(sku=None)], {}, "missing_sku"),
        ([line(sku="   ")], {}, "missing_sku"),
        ([line(), line("GIFT", 1, "25.00", gift_card=True)], {}, "gift_card_line"),
        ([line(requires_shipping=False)], {}, "no_shipping_line"),
        ([line()], {"delivery": "PICK_UP"}, "not_shipped_by_carrier"),
    ],
)
def test_lines_fbs_cannot_ship_are_reported_with_their_reason(shop, channel, lines, extra, reason):
    order = shop.add_order(lines=lines, shipping=AUSTIN, **extra)

    mapped = orders_of(channel.fetch_orders(None))[str(order.id)]

    assert isinstance(mapped, UnreadableOrder)
    assert mapped.reason == reason
    assert order.name in mapped.message


def test_a_removed_line_is_gone_and_a_cancelled_order_is_cancelled(shop, channel):
    edited = shop.add_order(lines=[line(), line("OIL-FLT-5W30", 2, "12.99")], shipping=AUSTIN)
    cancelled = shop.add_order(lines=[line()], shipping=AUSTIN)
    first = channel.fetch_orders(None)
    shop.shop.edit_quantity(edited.id, 0, 0)
    shop.shop.cancel(cancelled.id)

    later = orders_of(channel.fetch_orders(first.cursor))

    assert [x.sku for x in later[str(edited.id)].lines] == ["OIL-FLT-5W30"]
    assert later[str(cancelled.id)].cancelled


def test_a_backlog_is_read_a_few_pages_per_poll_and_no_order_is_lost(shop, make_channel):
    channel = make_channel(page_size=2, max_pages_per_poll=2)
    ids = {str(shop.add_order(lines=[line()], shipping=AUSTIN).id) for _ in range(9)}

    seen: set[str] = set()
    cursor, polls, more = None, 0, True
    while more:
        batch = channel.fetch_orders(cursor)
        seen |= set(orders_of(batch))
        cursor, more, polls = batch.cursor, batch.more, polls + 1

    assert seen == ids
    assert polls == 3
    assert read_cursor(cursor)["after"] is None
    again = channel.fetch_orders(cursor)  # the next sweep re-reads the overlap ...
    assert set(orders_of(again)) <= ids
    assert not again.more  # ... at the usual interval: nothing new past the last sweep
    assert read_cursor(again.cursor)["after"] is not None  # and goes on from there


def test_an_order_of_250_lines_is_read_whole(shop, channel):
    order = shop.add_order(
        lines=[line(f"PART-{i:03}", 1, "1.00") for i in range(250)], shipping=AUSTIN
    )

    mapped = orders_of(channel.fetch_orders(None))[str(order.id)]

    assert len(mapped.lines) == 250
    assert all("fulfillment_order_line_items" in x.channel_data for x in mapped.lines)
    assert shop.requests["FbsOrderLines"] >= 1 and shop.requests["FbsFulfillmentOrderLines"] >= 1


def test_a_parcel_fulfils_only_its_lines_and_quantities(shop, channel):
    order = shop.add_order(
        lines=[line(quantity=2), line("OIL-FLT-5W30", 1, "12.99")], shipping=AUSTIN
    )
    mapped = orders_of(channel.fetch_orders(None))[str(order.id)]
    first = mapped.lines[0]
    push = push_for(
        order,
        [
            TrackingLine(
                line_id=first.line_id, sku=first.sku, quantity=1, channel_data=first.channel_data
            )
        ],
    )

    result = channel.push_tracking(push)

    [fulfillment] = shop.fulfillments(order.id)
    assert result.reference == f"gid://shopify/Fulfillment/{fulfillment.id}"
    [fo] = shop.shop.order_fulfillment_orders(order.id)
    assert fulfillment.lines == [(fo.lines[0].id, 1)]
    assert fulfillment.tracking == [{"company": "UPS", "number": "1Z999", "url": None}]
    assert fulfillment.notify_customer
    assert [li.remaining for li in fo.lines] == [1, 1] and fo.status == "IN_PROGRESS"


def test_a_parcel_already_on_the_order_is_not_fulfilled_again(shop, channel):
    order = shop.add_order(lines=[line()], shipping=AUSTIN)
    mapped = orders_of(channel.fetch_orders(None))[str(order.id)]
    only = mapped.lines[0]
    push = push_for(order, [TrackingLine(line_id=only.line_id, sku=only.sku, quantity=1)])
    shop.lose_next_answer("FbsFulfillmentCreate")

    with pytest.raises(RetriableError):  # the answer is lost
        channel.push_tracking(push)
    again = channel.push_tracking(push)

    assert again.already_present
    assert len(shop.fulfillments(order.id)) == 1
    assert shop.duplicate_effects == 0


def test_an_unknown_carrier_is_sent_with_its_own_name_and_link(shop, channel):
    order = shop.add_order(lines=[line()], shipping=AUSTIN)
    only = orders_of(channel.fetch_orders(None))[str(order.id)].lines[0]
    push = push_for(
        order,
        [TrackingLine(line_id=only.line_id, sku=only.sku, quantity=1)],
        carrier="Bob's Trucks",
    )
    push = push.model_copy(update={"tracking_url": "https://bob.example/t/1Z999"})

    channel.push_tracking(push)

    [fulfillment] = shop.fulfillments(order.id)
    assert fulfillment.tracking == [
        {"company": "Bob's Trucks", "number": "1Z999", "url": "https://bob.example/t/1Z999"}
    ]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda shop, oid: shop.shop.hold(oid, "AWAITING_PAYMENT", "check the card"), "on hold"),
        (lambda shop, oid: shop.shop.move(oid, "Shop floor"), "moved to the location 'Shop floor'"),
        (lambda shop, oid: shop.shop.cancel(oid), "is closed (the order was cancelled"),
    ],
)
def test_a_fulfillment_order_fbs_cannot_fulfil_is_explained(shop, channel, change, words):
    order = shop.add_order(lines=[line()], shipping=AUSTIN)
    only = orders_of(channel.fetch_orders(None))[str(order.id)].lines[0]
    change(shop, order.id)

    with pytest.raises(FulfillmentBlocked) as caught:
        channel.push_tracking(
            push_for(order, [TrackingLine(line_id=only.line_id, sku=only.sku, quantity=1)])
        )

    assert words in caught.value.message
    assert isinstance(caught.value, FatalError)
    assert shop.fulfillments(order.id) == []


def test_a_throttled_query_waits_what_the_bucket_needs_and_is_sent_again(shop, channel):
    shop.add_order(lines=[line()], shipping=AUSTIN)
    shop.bucket.drain()

    batch = channel.fetch_orders(None)

    assert len(batch.orders) == 1
    [throttled] = shop.throttled
    [wait] = channel.client.throttled_waits
    expected = (throttled["requested"] - throttled["currentlyAvailable"]) / throttled["restoreRate"]
    assert wait == pytest.approx(expected, abs=0.01)


def test_check_lists_the_locations_when_the_location_is_wrong(make_channel):
    channel = make_channel(location="Nowhere")

    with pytest.raises(FatalError) as caught:
        channel.check()

    assert caught.value.code == "location_not_found"
    assert (
        "'Drop-ship warehouse'" in caught.value.message and "'Shop floor'" in caught.value.message
    )
    make_channel().check()


def test_a_wrong_token_is_an_auth_error(make_channel):
    from fbs_core.errors import AuthError

    with pytest.raises(AuthError):
        make_channel(access_token="shpat_wrong").check()


def test_subscribe_creates_the_order_webhooks_once(shop, channel):
    url = "https://fbs.example.com/webhooks/shopify-shop"

    first = channel.subscribe(url)
    second = channel.subscribe(url)

    assert [state for _, state in first] == ["created"] * 3
    assert [state for _, state in second] == ["exists"] * 3
    assert sorted(s["topic"] for s in shop.shop.subscriptions.values()) == [
        "ORDERS_CANCELLED",
        "ORDERS_PAID",
        "ORDERS_UPDATED",
    ]
    assert json.dumps(TOKEN) not in json.dumps(list(shop.shop.subscriptions.values()))


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "upstream_unavailable"), (502, "upstream_unavailable"), (429, "rate_limited")],
)
def test_http_failures_are_retriable_errors(shop, channel, status, code):
    shop.fail_next(status)

    with pytest.raises(RetriableError) as caught:
        channel.fetch_orders(None)

    assert caught.value.code == code


def test_a_bucket_that_stays_empty_ends_in_a_retriable_error_with_the_wait(shop, make_channel):
    channel = make_channel()
    channel.client._sleep = lambda seconds: shop.bucket.drain()  # someone else keeps spending
    shop.bucket.restore_rate = 0.01  # and the bucket barely refills meanwhile

    shop.bucket.drain()
    with pytest.raises(RetriableError) as caught:
        channel.check()

    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after is not None and caught.value.retry_after > 0
    assert len(shop.throttled) >= 5  # the first try and four more, then it gives up


def test_an_order_fulfilled_in_full_is_not_read(shop, channel):
    order = shop.add_order(lines=[line()], shipping=AUSTIN)
    only = orders_of(channel.fetch_orders(None))[str(order.id)].lines[0]
    channel.push_tracking(
        push_for(order, [TrackingLine(line_id=only.line_id, sku=only.sku, quantity=1)])
    )
    fulfilled_before_fbs = shop.add_order(lines=[line()], shipping=AUSTIN)
    [fo] = shop.shop.order_fulfillment_orders(fulfilled_before_fbs.id)
    shop.shop.fulfillment_create(
        {
            "lineItemsByFulfillmentOrder": [
                {"fulfillmentOrderId": f"gid://shopify/FulfillmentOrder/{fo.id}"}
            ]
        }
    )

    assert orders_of(channel.fetch_orders(None)) == {}
