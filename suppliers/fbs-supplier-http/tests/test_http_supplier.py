"""The http supplier against the warehouse imitation, over real HTTP on 127.0.0.1.

Every request these tests make is validated against openapi.yaml by the ``make_rig``
fixture when the test ends.
"""

from __future__ import annotations

import pytest

from fbs_core.domain import (
    Address,
    Money,
    PurchaseOrderLine,
    PurchaseOrderRequest,
    ShipmentLine,
)
from fbs_core.errors import AuthError, FatalError, OutOfStock, RetriableError
from fbs_sandbox.serving import free_port
from fbs_sandbox.warehouse import StockItem

BUYER = Address(
    name="Dana Whitfield",
    line1="4410 Mockingbird Ln",
    city="Dallas",
    region="TX",
    postal_code="75205",
    country="US",
    phone="+1 214 555 0147",
)


def usd(cents: int) -> Money:
    return Money(cents=cents, currency="USD")


def po(
    po_number: str = "FBS-PO-1-1", lines: dict[str, int] | None = None, ship_to: Address = BUYER
) -> PurchaseOrderRequest:
    prices = {"BR-1043": (4599, 0), "AC-221-REMAN": (18900, 5000), "OF-77": (899, 0)}
    wanted = lines or {"BR-1043": 2, "AC-221-REMAN": 1}
    return PurchaseOrderRequest(
        po_number=po_number,
        supplier="east",
        ship_to=ship_to,
        order_reference="#1187",
        lines=tuple(
            PurchaseOrderLine(
                sku=sku,
                quantity=qty,
                unit_cost=usd(prices.get(sku, (1000, 0))[0]),
                core_charge=usd(prices.get(sku, (1000, 0))[1]),
            )
            for sku, qty in wanted.items()
        ),
    )


# -- offers --------------------------------------------------------------------------


def test_offers_report_cost_core_charge_and_weight_and_omit_parts_not_carried(rig):
    offers = rig.supplier().offers(["BR-1043", "AC-221-REMAN", "OF-77", "ZZ-404"])

    by_sku = {o.sku: o for o in offers}
    assert set(by_sku) == {"BR-1043", "AC-221-REMAN", "OF-77"}
    reman = by_sku["AC-221-REMAN"]
    assert (reman.supplier, reman.available, reman.unit_cost, reman.core_charge) == (
        "east",
        3,
        usd(18900),
        usd(5000),
    )
    assert (reman.ship_from_zip, reman.weight_grams) == ("75201", 7400)
    assert by_sku["BR-1043"].core_charge == usd(0)
    assert by_sku["OF-77"].available == 0


def test_offers_ask_at_most_100_part_numbers_per_request(rig):
    for n in range(250):
        rig.warehouse.set_stock(f"P-{n:03d}", StockItem(quantity=n, unit_cost_cents=100 + n))

    offers = rig.supplier().offers([f"P-{n:03d}" for n in range(250)] + ["ZZ-404"])

    assert sorted(o.sku for o in offers) == [f"P-{n:03d}" for n in range(250)]
    sent = [r.query for r in rig.requests("GET", "/v1/stock")]
    assert len(sent) == 3


def test_offers_for_no_skus_send_nothing(rig):
    assert rig.supplier().offers([]) == []
    assert rig.requests("GET", "/v1/stock") == []


def test_check_passes_with_the_right_key_and_fails_with_a_wrong_one(rig):
    rig.supplier().check()
    with pytest.raises(AuthError):
        rig.supplier(api_key="wrong-key").check()


# -- purchase orders -----------------------------------------------------------------


def test_place_order_returns_the_warehouse_order_and_reserves_stock(rig):
    ack = rig.supplier().place_order(po())

    assert ack.po_number == "FBS-PO-1-1"
    assert ack.supplier_reference.startswith("WO-")
    assert [(x.sku, x.quantity, x.unit_cost, x.core_charge) for x in ack.lines] == [
        ("BR-1043", 2, usd(4599), usd(0)),
        ("AC-221-REMAN", 1, usd(18900), usd(5000)),
    ]
    assert rig.warehouse.stock_of("BR-1043").quantity == 10
    assert rig.warehouse.stock_of("AC-221-REMAN").quantity == 2


def test_the_supplier_declares_the_part_numbers_the_api_carries_and_sends_no_other(rig):
    supplier = rig.supplier()
    long_sku = "BR-" + "9" * 62

    assert supplier.part_numbers.problem("BR-1043") is None
    assert supplier.part_numbers.problem(long_sku) == "is 65 characters long; at most 64 fit"
    assert supplier.part_numbers.problem("BR,1043") == "contains ','"
    assert supplier.offers(["BR-1043", long_sku])[0].sku == "BR-1043"
    with pytest.raises(FatalError) as refused:
        supplier.place_order(po(lines={long_sku: 1}))
    assert refused.value.code == "unsupported_part_number"
    assert rig.requests("POST", "/v1/purchase-orders") == []
    assert "9" * 62 not in rig.requests("GET", "/v1/stock")[0].query


def test_placing_the_same_po_number_twice_makes_one_warehouse_order(rig):
    supplier = rig.supplier()

    first = supplier.place_order(po())
    second = supplier.place_order(po())

    assert second == first
    assert [r.status for r in rig.requests("POST", "/v1/purchase-orders")] == [201, 200]
    assert rig.warehouse.purchase_orders == 1
    assert rig.warehouse.duplicate_effects == 0
    assert rig.warehouse.stock_of("BR-1043").quantity == 10


def test_a_retry_after_a_lost_answer_does_not_order_twice(rig):
    supplier = rig.supplier()
    rig.warehouse.fail_next(502, after_effect=True)

    with pytest.raises(RetriableError):
        supplier.place_order(po())
    ack = supplier.place_order(po())

    assert ack.supplier_reference
    assert rig.warehouse.purchase_orders == 1
    assert rig.warehouse.duplicate_effects == 0


def test_reusing_a_po_number_for_other_lines_is_a_conflict(rig):
    supplier = rig.supplier()
    supplier.place_order(po())

    with pytest.raises(FatalError) as caught:
        supplier.place_order(po(lines={"BR-1043": 3}))

    assert caught.value.code == "po_number_conflict"
    assert rig.warehouse.purchase_orders == 1


def test_insufficient_stock_is_out_of_stock_and_reserves_nothing(rig):
    with pytest.raises(OutOfStock) as caught:
        rig.supplier().place_order(po(lines={"BR-1043": 2, "AC-221-REMAN": 5}))

    assert caught.value.skus == ("AC-221-REMAN",)
    assert rig.warehouse.purchase_orders == 0
    assert rig.warehouse.stock_of("BR-1043").quantity == 12


def test_a_part_the_warehouse_does_not_carry_is_out_of_stock(rig):
    with pytest.raises(OutOfStock) as caught:
        rig.supplier().place_order(po(lines={"ZZ-404": 1}))

    assert caught.value.skus == ("ZZ-404",)


def test_an_address_without_a_city_is_refused_before_anything_is_sent(rig):
    with pytest.raises(FatalError) as caught:
        rig.supplier().place_order(po(ship_to=BUYER.model_copy(update={"city": None})))

    assert caught.value.code == "invalid_address"
    assert "city" in str(caught.value)
    assert rig.requests("POST", "/v1/purchase-orders") == []


# -- shipments -----------------------------------------------------------------------


def test_an_order_ships_after_the_delay_and_the_cursor_only_brings_new_parcels(make_rig):
    rig = make_rig(ship_delay_seconds=3600)
    supplier = rig.supplier()
    supplier.place_order(po())

    before = supplier.fetch_shipments(None)
    assert before.shipments == ()
    rig.warehouse.advance(3600)
    shipped = supplier.fetch_shipments(before.cursor)
    again = supplier.fetch_shipments(shipped.cursor)

    [parcel] = shipped.shipments
    assert parcel.po_number == "FBS-PO-1-1"
    assert parcel.carrier in {"UPS", "FedEx", "USPS"}
    assert parcel.tracking_number and parcel.tracking_url
    assert parcel.shipped_at.tzinfo is not None
    assert parcel.lines == (
        ShipmentLine(sku="BR-1043", quantity=2),
        ShipmentLine(sku="AC-221-REMAN", quantity=1),
    )
    assert again.shipments == ()
    assert again.cursor == shipped.cursor


def test_fetch_shipments_follows_every_page(make_rig):
    rig = make_rig(stock={"BR-1043": StockItem(quantity=1000, unit_cost_cents=4599)})
    supplier = rig.supplier()
    for n in range(130):
        supplier.place_order(po(f"FBS-PO-{n}-1", lines={"BR-1043": 1}))

    batch = supplier.fetch_shipments(None)

    assert sorted(s.po_number for s in batch.shipments) == sorted(
        f"FBS-PO-{n}-1" for n in range(130)
    )
    assert len({s.shipment_id for s in batch.shipments}) == 130
    assert len(rig.requests("GET", "/v1/shipments")) == 2
    assert supplier.fetch_shipments(batch.cursor).shipments == ()


def test_a_split_order_arrives_as_two_parcels_at_different_times(make_rig):
    rig = make_rig(ship_delay_seconds=60, split_shipments=True)
    supplier = rig.supplier()
    supplier.place_order(po())

    rig.warehouse.advance(60)
    first = supplier.fetch_shipments(None)
    status_between = rig.warehouse.order("FBS-PO-1-1")["status"]
    rig.warehouse.advance(60)
    second = supplier.fetch_shipments(first.cursor)

    assert [s.lines for s in first.shipments] == [(ShipmentLine(sku="BR-1043", quantity=2),)]
    assert status_between == "partially_shipped"
    assert [s.lines for s in second.shipments] == [(ShipmentLine(sku="AC-221-REMAN", quantity=1),)]
    assert first.shipments[0].shipment_id != second.shipments[0].shipment_id


# -- cancellation --------------------------------------------------------------------


def test_cancel_before_shipping_stops_everything_and_can_be_repeated(make_rig):
    rig = make_rig(ship_delay_seconds=3600)
    supplier = rig.supplier()
    supplier.place_order(po())

    result = supplier.cancel_order("FBS-PO-1-1")
    repeated = supplier.cancel_order("FBS-PO-1-1")
    rig.warehouse.advance(3600)

    assert set(result.cancelled) == {
        ShipmentLine(sku="BR-1043", quantity=2),
        ShipmentLine(sku="AC-221-REMAN", quantity=1),
    }
    assert repeated.cancelled == result.cancelled
    assert rig.warehouse.cancellations == 1
    assert rig.warehouse.stock_of("BR-1043").quantity == 12
    assert supplier.fetch_shipments(None).shipments == ()


def test_cancel_after_shipping_stops_nothing(rig):
    supplier = rig.supplier()
    supplier.place_order(po())
    assert len(supplier.fetch_shipments(None).shipments) == 1

    result = supplier.cancel_order("FBS-PO-1-1")

    assert result.cancelled == ()
    assert "nothing left to cancel" in result.message
    assert rig.warehouse.order("FBS-PO-1-1")["status"] == "shipped"
    assert rig.warehouse.cancellations == 0


def test_cancel_between_two_parcels_stops_only_the_second(make_rig):
    rig = make_rig(ship_delay_seconds=60, split_shipments=True)
    supplier = rig.supplier()
    supplier.place_order(po())
    rig.warehouse.advance(60)

    result = supplier.cancel_order("FBS-PO-1-1")
    rig.warehouse.advance(600)
    shipped = supplier.fetch_shipments(None)

    assert result.cancelled == (ShipmentLine(sku="AC-221-REMAN", quantity=1),)
    assert [s.lines for s in shipped.shipments] == [(ShipmentLine(sku="BR-1043", quantity=2),)]


def test_a_partial_cancel_stops_only_the_units_above_keep_and_can_be_repeated(make_rig):
    rig = make_rig(ship_delay_seconds=3600)
    supplier = rig.supplier()
    supplier.place_order(po())

    result = supplier.cancel_order("FBS-PO-1-1", keep={"BR-1043": 1})
    repeated = supplier.cancel_order("FBS-PO-1-1", keep={"BR-1043": 1})
    rig.warehouse.advance(3600)
    shipped = supplier.fetch_shipments(None)

    assert result.cancelled == (ShipmentLine(sku="BR-1043", quantity=1),)
    assert repeated.cancelled == result.cancelled
    assert rig.warehouse.cancellations == 1
    assert rig.warehouse.stock_of("BR-1043").quantity == 11
    assert {line for s in shipped.shipments for line in s.lines} == {
        ShipmentLine(sku="BR-1043", quantity=1),
        ShipmentLine(sku="AC-221-REMAN", quantity=1),
    }


def test_a_later_partial_cancel_answers_everything_cancelled_so_far(make_rig):
    rig = make_rig(ship_delay_seconds=3600)
    supplier = rig.supplier()
    supplier.place_order(po())
    supplier.cancel_order("FBS-PO-1-1", keep={"BR-1043": 1})

    result = supplier.cancel_order("FBS-PO-1-1", keep={"AC-221-REMAN": 0})

    assert set(result.cancelled) == {
        ShipmentLine(sku="BR-1043", quantity=1),
        ShipmentLine(sku="AC-221-REMAN", quantity=1),
    }
    assert rig.warehouse.order("FBS-PO-1-1")["status"] == "accepted"


def test_keeping_a_part_that_is_not_on_the_order_is_an_invalid_request(rig):
    supplier = rig.supplier()
    supplier.place_order(po())

    with pytest.raises(FatalError) as caught:
        supplier.cancel_order("FBS-PO-1-1", keep={"OF-77": 0})

    assert caught.value.code == "invalid_request"
    assert "OF-77" in caught.value.message


def test_cancelling_an_unknown_po_number_is_fatal(rig):
    with pytest.raises(FatalError) as caught:
        rig.supplier().cancel_order("FBS-PO-404-1")

    assert caught.value.code == "po_not_found"


# -- failures --------------------------------------------------------------------------


def test_a_wrong_key_is_an_auth_error_that_does_not_show_the_key(rig):
    supplier = rig.supplier(api_key="sk_wrong_5e1d")

    with pytest.raises(AuthError) as caught:
        supplier.offers(["BR-1043"])

    assert "sk_wrong_5e1d" not in str(caught.value)
    assert "sk_wrong_5e1d" not in repr(supplier)
    assert rig.api_key not in repr(supplier.options)


def test_403_is_an_auth_error(rig):
    rig.warehouse.fail_next(403)
    with pytest.raises(AuthError):
        rig.supplier().offers(["BR-1043"])


def test_429_is_retriable_after_the_time_the_warehouse_asked_for(rig):
    rig.warehouse.fail_next(429, headers={"Retry-After": "7"})

    with pytest.raises(RetriableError) as caught:
        rig.supplier().offers(["BR-1043"])

    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after == 7


def test_a_server_error_is_retriable_and_the_next_call_succeeds(rig):
    supplier = rig.supplier()
    rig.warehouse.fail_next(500)

    with pytest.raises(RetriableError) as caught:
        supplier.offers(["BR-1043"])

    assert "HTTP 500" in str(caught.value)
    assert [o.sku for o in supplier.offers(["BR-1043"])] == ["BR-1043"]


def test_a_slow_warehouse_times_out_as_retriable(rig):
    rig.warehouse.slow_next(1)

    with pytest.raises(RetriableError) as caught:
        rig.supplier(timeout=0.2).offers(["BR-1043"])

    assert caught.value.code == "timeout"


def test_a_body_that_is_not_json_is_retriable(rig):
    rig.warehouse.malformed_next()
    rig.tolerated_bad_responses = 1

    with pytest.raises(RetriableError) as caught:
        rig.supplier().offers(["BR-1043"])

    assert caught.value.code == "malformed_response"


def test_a_warehouse_that_is_not_listening_is_retriable(rig):
    supplier = rig.supplier(base_url=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(RetriableError) as caught:
        supplier.offers(["BR-1043"])

    assert caught.value.code == "connection_failed"


def test_another_client_error_is_fatal_with_the_warehouse_message(rig):
    rig.warehouse.fail_next(400)

    with pytest.raises(FatalError) as caught:
        rig.supplier().offers(["BR-1043"])

    assert not isinstance(caught.value, AuthError)
    assert caught.value.code == "invalid_request"
    assert "Simulated HTTP 400 from the warehouse." in str(caught.value)


def test_a_warehouse_pricing_in_another_currency_is_refused(rig):
    with pytest.raises(FatalError) as caught:
        rig.supplier(currency="CAD").offers(["BR-1043"])

    assert caught.value.code == "currency_mismatch"
