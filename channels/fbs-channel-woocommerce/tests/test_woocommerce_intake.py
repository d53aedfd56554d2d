"""Reading orders from the WooCommerce imitation over real HTTP (OAuth 1.0a on http)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from fbs_core.domain import IncomingOrder, UnreadableOrder
from fbs_core.errors import AuthError, FatalError, RetriableError

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def line(sku="BRK-1001", quantity=1, price="49.99"):
    return {"sku": sku, "quantity": quantity, "price": price}


def orders_by_id(batch):
    return {o.external_id: o for o in batch.orders}


def list_queries(server):
    return [
        parse_qs(e.query)
        for e in server.log.matching("GET", "/wp-json/wc/v3/orders")
        if e.path == "/wp-json/wc/v3/orders"
    ]


def test_first_poll_reads_every_page_including_orders_sharing_a_timestamp(
    store, server, make_channel, us_address
):
    ids = [
        store.add_order(lines=[line()], shipping=us_address, date_modified=T0)["id"]
        for _ in range(7)
    ]
    channel = make_channel(per_page=2)

    batch = channel.fetch_orders(None)

    assert sorted(int(i) for i in orders_by_id(batch)) == ids
    assert batch.cursor == T0.isoformat()
    server.stop()  # let the request log settle
    pages = [q["page"][-1] for q in list_queries(server)]
    assert pages == ["1", "2", "3", "4"]


def test_next_poll_rereads_the_overlap_window_and_finds_a_late_order_with_the_same_stamp(
    store, server, make_channel, us_address
):
    store.add_order(lines=[line()], shipping=us_address, date_modified=T0)
    old = store.add_order(
        lines=[line()], shipping=us_address, date_modified=T0 - timedelta(minutes=30)
    )
    channel = make_channel(overlap_seconds=300)
    cursor = channel.fetch_orders(None).cursor
    # Saved in the same second as the newest order, but after that poll had read it.
    late = store.add_order(lines=[line()], shipping=us_address, date_modified=T0)

    batch = channel.fetch_orders(cursor)

    found = orders_by_id(batch)
    assert str(late["id"]) in found
    assert str(old["id"]) not in found  # older than the overlap window
    server.stop()  # let the request log settle
    query = list_queries(server)[-1]
    assert query["modified_after"][-1] == "2025-03-01T11:55:00"
    assert query["dates_are_gmt"][-1] == "true"
    assert query["orderby"][-1] == "date" and query["order"][-1] == "asc"
    assert batch.cursor == T0.isoformat()


def test_without_an_overlap_an_order_sharing_the_cursor_second_is_missed(
    store, make_channel, us_address
):
    """Why the overlap exists: the store's modified_after filter is exclusive."""
    store.add_order(lines=[line()], shipping=us_address, date_modified=T0)
    channel = make_channel(overlap_seconds=0)
    cursor = channel.fetch_orders(None).cursor
    late = store.add_order(lines=[line()], shipping=us_address, date_modified=T0)

    assert str(late["id"]) not in orders_by_id(channel.fetch_orders(cursor))


def test_an_empty_poll_keeps_the_cursor(channel):
    assert channel.fetch_orders(None).cursor is None
    assert channel.fetch_orders(T0.isoformat()).cursor == T0.isoformat()


def test_only_paid_cancelled_and_refunded_orders_are_read(store, channel, us_address):
    by_status = {
        status: store.add_order(lines=[line()], shipping=us_address, status=status)["id"]
        for status in ("processing", "pending", "on-hold", "completed", "cancelled", "refunded")
    }

    found = orders_by_id(channel.fetch_orders(None))

    assert sorted(found) == sorted(
        str(by_status[s]) for s in ("processing", "cancelled", "refunded")
    )
    assert found[str(by_status["processing"])].cancelled is False
    assert found[str(by_status["cancelled"])].cancelled is True
    assert found[str(by_status["refunded"])].cancelled is True


def test_an_order_cancelled_upstream_comes_back_flagged(store, channel, us_address):
    order = store.add_order(lines=[line()], shipping=us_address)
    cursor = channel.fetch_orders(None).cursor
    store.set_status(order["id"], "cancelled")

    again = orders_by_id(channel.fetch_orders(cursor))[str(order["id"])]

    assert again.cancelled is True


def test_mapped_order_carries_lines_money_and_address(store, channel, billing):
    shipping = {**billing, "phone": "", "company": "Reyes Garage"}
    del shipping["email"]
    order = store.add_order(
        lines=[line("ALT-220", 2, "129.50"), line("FLT-9", 1, "8.25")],
        shipping=shipping,
        billing=billing,
        shipping_total="12.00",
        total_tax="21.35",
    )

    mapped = orders_by_id(channel.fetch_orders(None))[str(order["id"])]

    assert isinstance(mapped, IncomingOrder)
    assert [(li.sku, li.quantity, li.unit_price.cents) for li in mapped.lines] == [
        ("ALT-220", 2, 12950),
        ("FLT-9", 1, 825),
    ]
    assert [li.line_id for li in mapped.lines] == [str(i["id"]) for i in order["line_items"]]
    assert mapped.buyer_paid.items.cents == 26725
    assert mapped.buyer_paid.shipping.cents == 1200
    assert mapped.buyer_paid.tax.cents == 2135
    assert mapped.buyer_paid.total.cents == 30060
    assert mapped.ship_to.company == "Reyes Garage"
    assert mapped.ship_to.phone == "512-555-0101"  # shipping has none: billing's
    assert mapped.ship_to.email == "dana@example.com"
    assert mapped.placed_at.tzinfo is not None


# -- bad input: mapped faithfully so the core can reject it with its own reason ---------


@pytest.mark.parametrize(
    "address",
    [
        {
            "first_name": "Lee",
            "address_1": "10 King St W",
            "city": "Toronto",
            "state": "ON",
            "postcode": "M5H 1A1",
            "country": "CA",
        },
        {
            "first_name": "Sgt",
            "last_name": "Ortiz",
            "address_1": "Unit 2050 Box 4190",
            "city": "APO",
            "state": "AE",
            "postcode": "09096",
            "country": "US",
        },
    ],
    ids=["non-us", "apo"],
)
def test_addresses_fbs_cannot_ship_to_are_mapped_faithfully(store, channel, address):
    order = store.add_order(lines=[line()], shipping=address)

    mapped = orders_by_id(channel.fetch_orders(None))[str(order["id"])]

    assert isinstance(mapped, IncomingOrder)
    assert (mapped.ship_to.city, mapped.ship_to.region, mapped.ship_to.country) == (
        address["city"],
        address["state"],
        address["country"],
    )


def test_unknown_sku_and_odd_quantities_are_mapped_as_sold(store, channel, us_address):
    order = store.add_order(
        lines=[line("NO-SUCH-PART", 1), line("BRK-1", 0), line("BRK-2", -3, "10.00")],
        shipping=us_address,
    )

    mapped = orders_by_id(channel.fetch_orders(None))[str(order["id"])]

    assert [(li.sku, li.quantity) for li in mapped.lines] == [
        ("NO-SUCH-PART", 1),
        ("BRK-1", 0),
        ("BRK-2", -3),
    ]


def test_missing_address_fields_become_none(store, channel):
    order = store.add_order(lines=[line()], shipping={"first_name": "Kim", "country": "US"})

    mapped = orders_by_id(channel.fetch_orders(None))[str(order["id"])]

    assert mapped.ship_to.line1 is None
    assert mapped.ship_to.city is None
    assert mapped.ship_to.postal_code is None


def test_order_without_shipping_object_or_sku_is_unreadable(store, channel, us_address):
    no_shipping = store.add_order(lines=[line()], shipping=None)
    no_sku = store.add_order(lines=[line(sku="")], shipping=us_address)

    found = orders_by_id(channel.fetch_orders(None))

    assert found[str(no_shipping["id"])].reason == "missing_address"
    assert found[str(no_sku["id"])].reason == "missing_sku"


def test_a_5_mb_order_is_unreadable_not_a_crash(store, channel, us_address):
    big = store.add_order(lines=[line()], shipping=us_address)
    store.patch_order(big["id"], {"customer_note": "n" * (5 * 1024 * 1024)})
    small = store.add_order(lines=[line()], shipping=us_address)

    found = orders_by_id(channel.fetch_orders(None))

    assert isinstance(found[str(big["id"])], UnreadableOrder)
    assert found[str(big["id"])].reason == "order_too_large"
    assert isinstance(found[str(small["id"])], IncomingOrder)


def test_non_numeric_amount_is_unreadable(store, channel, us_address):
    order = store.add_order(lines=[line()], shipping=us_address)
    store.patch_order(order["id"], {"total": "N/A"})

    mapped = orders_by_id(channel.fetch_orders(None))[str(order["id"])]

    assert mapped.reason == "bad_amount"


# -- upstream failures ---------------------------------------------------------------


def test_malformed_json_is_retriable(store, channel, us_address):
    store.add_order(lines=[line()], shipping=us_address)
    store.malformed_next()

    with pytest.raises(RetriableError) as info:
        channel.fetch_orders(None)

    assert info.value.code == "malformed_response"
    assert "malformed JSON" in info.value.message


def test_wrong_credentials_are_an_auth_error_without_the_secret(make_channel):
    channel = make_channel(consumer_secret="cs_wrong_secret_value")

    with pytest.raises(AuthError) as info:
        channel.fetch_orders(None)

    assert "Invalid signature" in info.value.message
    assert "cs_wrong_secret_value" not in str(info.value)
    assert "ck_5f2c0a9e1d" not in str(info.value)


def test_http_401_and_403_are_auth_errors(store, channel):
    for status in (401, 403):
        store.fail_next(status)
        with pytest.raises(AuthError):
            channel.fetch_orders(None)


def test_429_is_retriable_with_retry_after(store, channel):
    store.fail_next(429, headers={"Retry-After": "30"})

    with pytest.raises(RetriableError) as info:
        channel.fetch_orders(None)

    assert info.value.retry_after == 30
    assert info.value.code == "rate_limited"


def test_500_is_retriable(store, channel):
    store.fail_next(500)

    with pytest.raises(RetriableError) as info:
        channel.fetch_orders(None)

    assert info.value.code == "upstream_unavailable"


def test_a_failure_on_a_later_page_fails_the_whole_poll(store, make_channel, us_address):
    for _ in range(3):
        store.add_order(lines=[line()], shipping=us_address)
    channel = make_channel(per_page=1)
    channel.fetch_orders(None)  # warm: every page readable
    store.slow_next(0, times=1)  # page 1 passes
    store.fail_next(503)  # page 2 fails

    with pytest.raises(RetriableError):
        channel.fetch_orders(None)


def test_other_4xx_is_fatal_with_woocommerces_message(store, channel):
    store.fail_next(
        400,
        body={
            "code": "rest_invalid_param",
            "message": "Invalid parameter(s): status",
            "data": {"status": 400},
        },
    )

    with pytest.raises(FatalError) as info:
        channel.fetch_orders(None)

    assert not isinstance(info.value, AuthError)
    assert "Invalid parameter(s): status" in info.value.message


def test_a_timeout_is_retriable(store, make_channel):
    store.slow_next(3)
    channel = make_channel(timeout=0.3)

    with pytest.raises(RetriableError) as info:
        channel.fetch_orders(None)

    assert info.value.code == "timeout"
    assert "oauth" not in info.value.message.lower()


def test_a_store_that_is_down_is_retriable(make_channel):
    channel = make_channel(url="http://127.0.0.1:9")

    with pytest.raises(RetriableError) as info:
        channel.fetch_orders(None)

    assert info.value.code == "connection_failed"


def test_check_makes_one_authenticated_call(server, channel, make_channel):
    channel.check()
    with pytest.raises(AuthError):
        make_channel(consumer_key="ck_unknown").check()

    server.stop()  # let the request log settle
    calls = server.log.matching("GET", "/wp-json/wc/v3/orders")
    assert [(e.status, parse_qs(e.query)["per_page"][-1]) for e in calls] == [
        (200, "1"),
        (401, "1"),
    ]
