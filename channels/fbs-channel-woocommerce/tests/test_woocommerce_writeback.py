"""Acknowledgement notes, tracking write-back and completion, against the imitation."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from fbs_channel_woocommerce.channel import tracking_meta_key, tracking_note
from fbs_core.domain import TrackingLine, TrackingPush
from fbs_core.errors import RetriableError
from fbs_sandbox.serving import serve
from fbs_sandbox.woocommerce import WooCommerceImitation


def push_for(order, *, number="1Z999AA10123456784", carrier="UPS", completes=False, url=None):
    item = order["line_items"][0]
    return TrackingPush(
        idempotency_key=f"track-{order['id']}-{number}",
        external_order_id=str(order["id"]),
        carrier=carrier,
        tracking_number=number,
        shipped_at=datetime(2025, 3, 2, 15, 30, tzinfo=UTC),
        lines=(TrackingLine(line_id=str(item["id"]), sku=item["sku"], quantity=1),),
        completes_order=completes,
        tracking_url=url,
    )


@pytest.fixture
def order(store, us_address):
    return store.add_order(
        lines=[{"sku": "BRK-1001", "quantity": 1, "price": "49.99"}], shipping=us_address
    )


def writes(server):
    return [e for e in server.log.entries if e.method in ("POST", "PUT", "DELETE")]


def test_acknowledge_adds_one_private_note_however_often_it_is_called(store, channel, order):
    channel.acknowledge_order(str(order["id"]), "Order accepted for fulfillment.")
    channel.acknowledge_order(str(order["id"]), "Order accepted for fulfillment.")

    notes = store.notes[order["id"]]
    assert [(n["note"], n["customer_note"]) for n in notes] == [
        ("Order accepted for fulfillment.", False)
    ]
    assert store.duplicate_effects == 0


ST = "/wp-json/wc-shipment-tracking/v3"


def test_tracking_goes_through_the_extension_with_a_known_provider(store, server, channel, order):
    result = channel.push_tracking(push_for(order))

    [item] = store.trackings[order["id"]]
    assert result.reference == item["tracking_id"]
    assert result.already_present is False
    assert (item["tracking_provider"], item["tracking_number"], item["date_shipped"]) == (
        "UPS",
        "1Z999AA10123456784",
        "2025-03-02",
    )
    assert store.tracking_pushes == [(order["id"], "1Z999AA10123456784")]
    assert store.notes[order["id"]] == []  # no customer-note fallback on this store
    assert store.orders[order["id"]]["status"] == "processing"  # not the last parcel
    server.stop()  # let the request log settle
    asked = {(e.method, e.path) for e in server.log.entries if e.path.startswith(ST)}
    assert asked == {
        ("GET", f"{ST}/orders/{order['id']}/shipment-trackings"),
        ("GET", f"{ST}/orders/{order['id']}/shipment-trackings/providers"),
        ("POST", f"{ST}/orders/{order['id']}/shipment-trackings"),
    }


def test_every_parcel_becomes_one_entry_even_when_the_first_post_answers_an_html_500(
    store, channel, order
):
    """The store saved the item, then failed before it could answer (a PHP fatal error in a
    later hook): the retry reads the order's items first and finds it."""
    store.fail_after_next(
        500,
        method="POST",
        path_suffix="/shipment-trackings",
        body=b"<html><body><h1>There has been a critical error on this website.</h1></body></html>",
        headers={"Content-Type": "text/html; charset=UTF-8"},
    )
    first, second = push_for(order, number="1ZA"), push_for(order, number="1ZB", carrier="USPS")

    with pytest.raises(RetriableError) as failed:
        channel.push_tracking(first)
    retried = channel.push_tracking(first)
    other = channel.push_tracking(second)
    again = channel.push_tracking(second)

    assert failed.value.code == "upstream_unavailable"
    assert retried.already_present is True
    assert (other.already_present, again.already_present) == (False, True)
    items = store.trackings[order["id"]]
    assert [(i["tracking_number"], i["tracking_provider"]) for i in items] == [
        ("1ZA", "UPS"),
        ("1ZB", "USPS"),
    ]
    assert retried.reference == items[0]["tracking_id"]
    assert store.duplicate_effects == 0
    assert store.notes[order["id"]] == []


def test_a_store_without_the_providers_route_still_gets_an_extension_entry(store, channel, order):
    """Only the order's tracking list tells whether the extension is there; a providers
    list that cannot be read makes the carrier a custom provider, not a customer note."""
    store.fail_next(
        404,
        method="GET",
        path_suffix="/shipment-trackings/providers",
        body={
            "code": "rest_no_route",
            "message": "No route was found matching the URL and request method.",
            "data": {"status": 404},
        },
    )

    channel.push_tracking(push_for(order, url="https://www.ups.com/track?tracknum=1Z9"))

    [item] = store.trackings[order["id"]]
    assert (item["tracking_provider"], item["tracking_link"]) == (
        "UPS",
        "https://www.ups.com/track?tracknum=1Z9",
    )
    assert store.notes[order["id"]] == []


def test_a_repeated_push_writes_nothing(store, server, channel, order):
    first = channel.push_tracking(push_for(order))

    again = channel.push_tracking(push_for(order))

    assert again.already_present is True
    assert again.reference == first.reference
    server.stop()  # let the request log settle
    assert [(e.method, e.path.rsplit("/", 1)[-1]) for e in writes(server)] == [
        ("POST", "shipment-trackings")
    ]
    assert store.duplicate_effects == 0


def test_an_unknown_carrier_is_sent_as_a_custom_provider_with_its_link(store, channel, order):
    channel.push_tracking(
        push_for(
            order,
            carrier="Estes Freight",
            number="EST123",
            url="https://www.estes-express.com/track/EST123",
        )
    )

    [item] = store.trackings[order["id"]]
    assert item["tracking_provider"] == "Estes Freight"
    assert item["tracking_link"] == "https://www.estes-express.com/track/EST123"


def test_configured_provider_links_fill_in_the_custom_link(store, make_channel, order):
    channel = make_channel(tracking_provider_links={"AAA Cooper": "https://aaa.test/t/%1$s"})

    channel.push_tracking(push_for(order, carrier="AAA Cooper", number="AC77"))

    assert store.trackings[order["id"]][0]["tracking_link"] == "https://aaa.test/t/AC77"


def test_the_last_parcel_completes_the_order_once(store, channel, order):
    channel.push_tracking(push_for(order, number="1ZA", completes=False))
    assert store.completed_orders == []

    channel.push_tracking(push_for(order, number="1ZB", completes=True))
    channel.push_tracking(push_for(order, number="1ZB", completes=True))

    assert store.completed_orders == [order["id"]]
    assert store.orders[order["id"]]["status"] == "completed"
    assert [n for _, n in store.tracking_pushes] == ["1ZA", "1ZB"]


def test_a_cancelled_order_is_not_marked_completed(store, channel, order):
    store.set_status(order["id"], "cancelled")

    channel.push_tracking(push_for(order, completes=True))

    assert store.orders[order["id"]]["status"] == "cancelled"


@pytest.fixture
def bare_store():
    """A store without the Shipment Tracking extension."""
    return WooCommerceImitation("ck_5f2c0a9e1d", "cs_8b1e77d0c4", shipment_tracking=False)


@pytest.fixture
def bare(bare_store, make_channel):
    running = serve(bare_store.app)
    yield running
    running.stop()


def bare_channel(make_channel, bare):
    return make_channel(url=bare.url)


def test_without_the_extension_tracking_becomes_a_customer_note_and_meta(
    bare_store, bare, make_channel, us_address
):
    order = bare_store.add_order(
        lines=[{"sku": "A", "quantity": 1, "price": "5"}], shipping=us_address
    )
    channel = bare_channel(make_channel, bare)
    push = push_for(order, completes=True)

    result = channel.push_tracking(push)

    notes = bare_store.notes[order["id"]]
    customer = [n for n in notes if n["customer_note"]]
    assert [n["note"] for n in customer] == [
        "Your order has shipped with UPS, tracking number 1Z999AA10123456784."
    ]
    assert result.reference == str(customer[0]["id"])
    stored = bare_store.orders[order["id"]]
    [meta] = [m for m in stored["meta_data"] if m["key"].startswith("_fbs_tracking")]
    assert meta["key"] == "_fbs_tracking_1Z999AA10123456784"
    assert meta["value"]["tracking_number"] == "1Z999AA10123456784"
    assert meta["value"]["note_id"] == customer[0]["id"]
    assert stored["status"] == "completed"
    assert bare_store.tracking_pushes == []


def test_without_the_extension_a_repeat_writes_nothing(bare_store, bare, make_channel, us_address):
    order = bare_store.add_order(
        lines=[{"sku": "A", "quantity": 1, "price": "5"}], shipping=us_address
    )
    channel = bare_channel(make_channel, bare)
    first = channel.push_tracking(push_for(order))

    again = channel.push_tracking(push_for(order))

    assert again.already_present is True
    assert again.reference == first.reference
    bare.stop()  # let the request log settle
    assert [(e.method, e.path.rsplit("/", 1)[-1]) for e in writes(bare)] == [
        ("POST", "notes"),  # the customer note
        ("PUT", str(order["id"])),  # the _fbs_tracking_<number> meta entry
    ]
    assert bare_store.duplicate_effects == 0


def test_without_the_extension_a_second_parcel_adds_its_own_entry(
    bare_store, bare, make_channel, us_address
):
    order = bare_store.add_order(
        lines=[{"sku": "A", "quantity": 2, "price": "5"}], shipping=us_address
    )
    channel = bare_channel(make_channel, bare)

    channel.push_tracking(push_for(order, number="1ZA"))
    channel.push_tracking(push_for(order, number="1ZB", carrier="USPS"))

    metas = [m for m in bare_store.orders[order["id"]]["meta_data"]]
    assert [(m["key"], m["value"]["tracking_number"]) for m in metas] == [
        (tracking_meta_key("1ZA"), "1ZA"),
        (tracking_meta_key("1ZB"), "1ZB"),
    ]
    assert len([n for n in bare_store.notes[order["id"]] if n["customer_note"]]) == 2


def test_a_note_written_before_a_crash_is_not_written_again(
    bare_store, bare, make_channel, us_address
):
    order = bare_store.add_order(
        lines=[{"sku": "A", "quantity": 1, "price": "5"}], shipping=us_address
    )
    channel = bare_channel(make_channel, bare)
    push = push_for(order)
    channel.push_tracking(push)
    # As if the process died after the note was posted but before the meta was saved.
    bare_store.patch_order(order["id"], {"meta_data": []})

    channel.push_tracking(push)

    assert [n["note"] for n in bare_store.notes[order["id"]] if n["customer_note"]] == [
        tracking_note(push)
    ]
    assert bare_store.duplicate_effects == 0
    assert any(
        m["key"] == tracking_meta_key(push.tracking_number)
        for m in bare_store.orders[order["id"]]["meta_data"]
    )


def test_without_the_extension_two_parcels_written_at_once_both_keep_their_entry(
    bare_store, bare, make_channel, us_address
):
    """The first parcel's meta write is held up at the store while the second parcel is
    written whole; when the first one lands it must not wipe out the second's entry."""
    order = bare_store.add_order(
        lines=[{"sku": "A", "quantity": 2, "price": "5"}], shipping=us_address
    )
    channel = bare_channel(make_channel, bare)
    bare_store.slow_next(2, method="PUT", path_suffix=f"/orders/{order['id']}")
    first = threading.Thread(target=channel.push_tracking, args=(push_for(order, number="1ZA"),))
    first.start()
    while bare_store.pending_faults:  # the first parcel's PUT is now held at the store
        time.sleep(0.01)

    channel.push_tracking(push_for(order, number="1ZB"))
    first.join()

    numbers = {
        m["value"]["tracking_number"]
        for m in bare_store.orders[order["id"]]["meta_data"]
        if m["key"].startswith("_fbs_tracking")
    }
    assert numbers == {"1ZA", "1ZB"}
    assert len([n for n in bare_store.notes[order["id"]] if n["customer_note"]]) == 2


def test_a_warehouses_own_carrier_words_reach_the_extensions_provider(store, channel, order):
    """ "UPS Ground" and "Federal Express" are the core's ups and fedex, and the extension
    calls them "UPS" and "Fedex": the buyer gets the store's own tracking link."""
    channel.push_tracking(push_for(order, carrier="UPS Ground", number="1ZG1"))
    channel.push_tracking(push_for(order, carrier="Federal Express", number="7712"))

    items = store.trackings[order["id"]]
    assert [(i["tracking_number"], i["tracking_provider"]) for i in items] == [
        ("1ZG1", "UPS"),
        ("7712", "Fedex"),
    ]


def test_a_known_carrier_the_store_lacks_gets_its_public_tracking_page(store, channel, order):
    channel.push_tracking(push_for(order, carrier="LaserShip Ground", number="LS42"))

    [item] = store.trackings[order["id"]]
    assert item["tracking_provider"] == "LaserShip"
    assert item["tracking_link"] == "https://www.lasership.com/track/LS42"
