"""mapping.py: the warehouse API's JSON to fbs domain objects and back, on saved answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fbs_core.domain import (
    Address,
    Money,
    PurchaseOrderLine,
    PurchaseOrderRequest,
    ShipmentLine,
)
from fbs_core.errors import FatalError
from fbs_supplier_http import mapping
from fbs_supplier_http.client import retry_after_seconds

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def usd(cents: int) -> Money:
    return Money(cents=cents, currency="USD")


def test_stock_items_become_offers_with_core_charge_and_zero_stock():
    offers = mapping.offers_from_stock(
        load("stock.json"), supplier="east", ship_from_zip="75201", currency="USD"
    )

    assert [(o.sku, o.available, o.unit_cost, o.core_charge, o.weight_grams) for o in offers] == [
        ("BR-1043", 12, usd(4599), usd(0), 3200),
        ("AC-221-REMAN", 0, usd(18900), usd(5000), 7400),
    ]
    assert {(o.supplier, o.ship_from_zip) for o in offers} == {("east", "75201")}


def test_an_order_answer_becomes_an_ack_with_the_prices_the_warehouse_bills():
    ack = mapping.ack_from_order(load("purchase_order.json"), currency="USD")

    assert (ack.po_number, ack.supplier_reference) == ("FBS-PO-000123-1", "WO-004512")
    assert ack.lines[1] == PurchaseOrderLine(
        sku="AC-221-REMAN", quantity=1, unit_cost=usd(18700), core_charge=usd(5000)
    )


def test_a_shipments_page_keeps_carrier_tracking_and_time_zones():
    page = mapping.shipment_page(load("shipments_page.json"))

    first, second = page.shipments
    assert (first.carrier, first.tracking_number) == ("UPS", "1Z4F7A190312345678")
    assert first.shipped_at == datetime(2025, 3, 4, 17, 21, 9, tzinfo=UTC)
    assert second.tracking_url is None
    assert second.shipped_at.utcoffset() == timedelta(hours=-5)
    assert second.lines == (ShipmentLine(sku="AC-221-REMAN", quantity=1),)
    assert (page.next_cursor, page.has_more) == ("djE6MTM", True)


def test_a_cancel_answer_lists_what_will_not_ship():
    result = mapping.cancel_result(load("cancel_partial.json"))

    assert result.cancelled == (ShipmentLine(sku="AC-221-REMAN", quantity=1),)
    assert "shipped" in result.message


def test_an_answer_missing_a_field_names_the_field():
    broken = load("shipments_page.json")
    del broken["shipments"][1]["tracking_number"]

    with pytest.raises(mapping.MalformedResponse, match=r"shipments\.1\.tracking_number"):
        mapping.shipment_page(broken)


def test_a_timestamp_without_a_zone_is_malformed():
    broken = load("shipments_page.json")
    broken["shipments"][0]["shipped_at"] = "2025-03-04T17:21:09"

    with pytest.raises(mapping.MalformedResponse, match="shipped_at"):
        mapping.shipment_page(broken)


def test_a_negative_price_is_malformed():
    broken = load("stock.json")
    broken["items"][0]["unit_cost_cents"] = -1

    with pytest.raises(mapping.MalformedResponse, match="unit_cost_cents"):
        mapping.offers_from_stock(broken, supplier="east", ship_from_zip="75201", currency="USD")


def test_prices_in_another_currency_are_refused():
    with pytest.raises(FatalError) as caught:
        mapping.offers_from_stock(
            load("stock.json"), supplier="east", ship_from_zip="75201", currency="CAD"
        )
    assert caught.value.code == "currency_mismatch"


def test_the_purchase_order_body_carries_expected_costs_and_only_given_address_fields():
    request = PurchaseOrderRequest(
        po_number="FBS-PO-9-1",
        supplier="east",
        order_reference="#2001",
        ship_to=Address(
            name="Lee Ortiz",
            line1="12 Elm St",
            line2=" ",
            city="Austin",
            region="TX",
            postal_code="78701",
            country="us",
            email="lee@example.com",
        ),
        lines=(
            PurchaseOrderLine(
                sku="AC-221-REMAN", quantity=2, unit_cost=usd(18900), core_charge=usd(5000)
            ),
        ),
    )

    assert mapping.purchase_order_body(request) == {
        "po_number": "FBS-PO-9-1",
        "reference": "#2001",
        "ship_to": {
            "name": "Lee Ortiz",
            "line1": "12 Elm St",
            "city": "Austin",
            "region": "TX",
            "postal_code": "78701",
            "country": "US",
        },
        "lines": [
            {
                "part_number": "AC-221-REMAN",
                "quantity": 2,
                "expected_unit_cost_cents": 18900,
                "expected_core_charge_cents": 5000,
            }
        ],
    }


def test_error_details_read_the_standard_body_and_tolerate_others():
    assert mapping.error_details(load("error_insufficient_stock.json")) == (
        "insufficient_stock",
        "Not enough stock for AC-221-REMAN.",
        ("AC-221-REMAN",),
    )
    assert mapping.error_details({"error": "boom"}) == ("", "", ())
    assert mapping.error_details(["not", "an", "object"]) == ("", "", ())


def test_retry_after_reads_seconds_and_http_dates():
    def response(value: str) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": value})

    now = datetime(2025, 3, 4, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(response("30")) == 30
    assert retry_after_seconds(response("Tue, 04 Mar 2025 12:01:30 GMT"), now) == 90
    assert retry_after_seconds(response("soon")) is None
    assert retry_after_seconds(httpx.Response(429)) is None
