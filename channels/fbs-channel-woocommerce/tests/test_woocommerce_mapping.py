"""mapping.py against the JSON response examples of the official REST v3 docs."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from fbs_channel_woocommerce.mapping import map_order
from fbs_core.domain import IncomingOrder, Money, UnreadableOrder


def with_skus(order):
    """The docs' first line item has an empty SKU; give it one for the happy path."""
    order = copy.deepcopy(order)
    for item in order["line_items"]:
        item["sku"] = item["sku"] or f"SKU-{item['product_id']}"
    return order


def test_docs_example_maps_ids_dates_and_money(retrieve_example):
    mapped = map_order(with_skus(retrieve_example))

    assert isinstance(mapped, IncomingOrder)
    assert mapped.external_id == "727"
    assert mapped.number == "727"
    assert mapped.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert mapped.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert mapped.currency == "USD"
    assert [(li.line_id, li.sku, li.quantity, li.unit_price.cents) for li in mapped.lines] == [
        ("315", "SKU-93", 2, 300),
        ("316", "Bar3", 1, 1200),
    ]
    assert mapped.lines[1].title == "Ship Your Idea \u2013 Color: Black, Size: M Test"
    assert mapped.buyer_paid is not None
    assert mapped.buyer_paid.items == Money(cents=1800)
    assert mapped.buyer_paid.shipping == Money(cents=1000)
    assert mapped.buyer_paid.tax == Money(cents=135)
    assert mapped.buyer_paid.total == Money(cents=2935)
    assert mapped.cancelled is False


def test_docs_example_ship_to_comes_from_shipping_with_billing_contact(retrieve_example):
    mapped = map_order(with_skus(retrieve_example))

    assert mapped.ship_to is not None
    assert mapped.ship_to.name == "John Doe"
    assert mapped.ship_to.line1 == "969 Market"
    assert mapped.ship_to.line2 is None
    assert mapped.ship_to.company is None
    assert (mapped.ship_to.city, mapped.ship_to.region, mapped.ship_to.postal_code) == (
        "San Francisco",
        "CA",
        "94103",
    )
    assert mapped.ship_to.country == "US"
    assert mapped.ship_to.phone == "(555) 555-5555"
    assert mapped.ship_to.email == "john.doe@example.com"


def test_every_order_of_the_docs_list_example_maps(list_example):
    mapped = [map_order(with_skus(order)) for order in list_example]

    assert [m.external_id for m in mapped] == [str(o["id"]) for o in list_example]
    assert all(isinstance(m, IncomingOrder) for m in mapped)


def test_the_docs_example_as_is_has_a_line_without_sku(retrieve_example):
    mapped = map_order(retrieve_example)

    assert isinstance(mapped, UnreadableOrder)
    assert mapped.reason == "missing_sku"
    assert "315" in mapped.message
    assert mapped.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)


def test_cancelled_and_refunded_orders_are_flagged(retrieve_example):
    for status in ("cancelled", "refunded"):
        order = with_skus(retrieve_example) | {"status": status}
        assert map_order(order).cancelled is True


def test_string_prices_are_parsed_without_floats(retrieve_example):
    order = with_skus(retrieve_example)
    order["line_items"][0]["price"] = "19.995"

    mapped = map_order(order)

    assert mapped.lines[0].unit_price.cents == 2000  # half up, from the decimal string


def test_zero_and_negative_quantities_are_kept_for_the_core_to_reject(retrieve_example):
    order = with_skus(retrieve_example)
    order["line_items"][0]["quantity"] = 0
    order["line_items"][1]["quantity"] = -2

    mapped = map_order(order)

    assert [line.quantity for line in mapped.lines] == [0, -2]


def test_missing_shipping_object_is_unreadable(retrieve_example):
    order = with_skus(retrieve_example)
    del order["shipping"]

    mapped = map_order(order)

    assert isinstance(mapped, UnreadableOrder)
    assert mapped.reason == "missing_address"


def test_non_numeric_amount_is_unreadable_with_the_field_named(retrieve_example):
    order = with_skus(retrieve_example) | {"shipping_total": "ten dollars"}

    mapped = map_order(order)

    assert isinstance(mapped, UnreadableOrder)
    assert mapped.reason == "bad_amount"
    assert "shipping_total" in mapped.message


def test_an_order_over_the_size_limit_is_unreadable(retrieve_example):
    order = with_skus(retrieve_example) | {"customer_note": "x" * 2_000}

    mapped = map_order(order, max_order_bytes=1_000)

    assert isinstance(mapped, UnreadableOrder)
    assert mapped.reason == "order_too_large"


def test_garbage_instead_of_an_order_is_unreadable_not_an_exception():
    assert map_order("not an order").reason == "unreadable_order"
    assert map_order({"id": 5}).reason == "unreadable_order"
    assert map_order(
        {
            "id": 5,
            "currency": "DOLLARS",
            "date_created_gmt": "2024-01-01T00:00:00",
            "date_modified_gmt": "2024-01-01T00:00:00",
            "shipping": {},
            "line_items": [{"id": 1, "sku": "A", "quantity": 1, "price": 1, "total": "1"}],
            "shipping_total": "0",
            "total_tax": "0",
            "total": "1",
        }
    ).reason == ("unreadable_order")
