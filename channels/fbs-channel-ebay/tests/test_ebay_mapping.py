"""What an eBay order becomes in fbs.

Specified here:

* ship-to, SKU, quantity, unit price, what the buyer paid for shipping and the tax;
* when eBay collects and remits the tax, the tax is not the merchant's money: zero tax
  and a total without it;
* each line's ``lineItemId`` is its channel data, the buyer's eBay username and the
  earliest ship-by date the order's;
* an eBay International Shipping order keeps the hub address and puts its reference on
  the address and in the channel data;
* a listing without a SKU makes the order unreadable with a reason naming the listing;
* a cancellation done on eBay is a cancelled order; one only requested waits as
  ``cancel_requested``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fbs_core.domain import IncomingOrder, Money, UnreadableOrder

from .conftest import AUSTIN, line


def _one(channel, order_id):
    [found] = [o for o in channel.fetch_orders(None).orders if o.external_id == order_id]
    return found


def test_an_order_maps_to_lines_address_and_money(imitation, channel):
    ship_by = datetime(2030, 5, 2, 22, 0, tzinfo=UTC)
    order = imitation.add_order(
        [line("BRK-PAD-F", 2, "29.50"), line("OIL-FLT", 1, "12.99")],
        AUSTIN,
        shipping="8.00",
        tax="5.10",
        buyer="pat_buyer_77",
        ship_by=ship_by,
    )

    mapped = _one(channel, order["orderId"])

    assert isinstance(mapped, IncomingOrder)
    assert [(li.sku, li.quantity, li.unit_price.cents) for li in mapped.lines] == [
        ("BRK-PAD-F", 2, 2950),
        ("OIL-FLT", 1, 1299),
    ]
    assert [li.channel_data["line_item_id"] for li in mapped.lines] == [
        li["lineItemId"] for li in order["lineItems"]
    ]
    assert mapped.ship_to.name == "Pat Buyer"
    assert (mapped.ship_to.city, mapped.ship_to.region, mapped.ship_to.postal_code) == (
        "Austin",
        "TX",
        "78701",
    )
    assert mapped.ship_to.email == "pat@example.com"
    assert mapped.buyer_paid.shipping == Money(cents=800)
    assert mapped.buyer_paid.tax == Money(cents=510)
    assert mapped.buyer_paid.total == Money(cents=5900 + 1299 + 800 + 510)
    assert mapped.channel_data["buyer"] == "pat_buyer_77"
    assert datetime.fromisoformat(mapped.channel_data["ship_by"]) == ship_by


def test_tax_ebay_collects_and_remits_is_not_the_merchants(imitation, channel):
    order = imitation.add_order(
        [line("A", 1, "100.00")], AUSTIN, shipping="10.00", tax="8.25", ebay_collects_tax=True
    )

    mapped = _one(channel, order["orderId"])

    assert mapped.buyer_paid.tax == Money(cents=0)
    assert mapped.buyer_paid.total == Money(cents=11000)
    assert mapped.channel_data["ebay_collects_tax"] == "true"


def test_an_eis_order_keeps_the_hub_address_and_its_reference(imitation, channel):
    order = imitation.add_order([line("A")], AUSTIN, eis_reference="EIS-5550012345")

    mapped = _one(channel, order["orderId"])

    assert mapped.ship_to.city == "Erlanger" and mapped.ship_to.postal_code == "41025"
    assert "Reference #EIS-5550012345" in mapped.ship_to.line2
    assert mapped.channel_data["ship_to_reference_id"] == "EIS-5550012345"


def test_a_listing_without_a_sku_is_unreadable_naming_the_listing(imitation, channel):
    order = imitation.add_order([line(None, legacy_item_id="110012345678")], AUSTIN)

    mapped = _one(channel, order["orderId"])

    assert isinstance(mapped, UnreadableOrder)
    assert mapped.reason == "listing_without_sku"
    assert "listing 110012345678" in mapped.message


def test_cancelled_on_ebay_is_cancelled_and_requested_waits(imitation, channel):
    cancelled = imitation.add_order([line("A")], AUSTIN)["orderId"]
    requested = imitation.add_order([line("B")], AUSTIN)["orderId"]
    imitation.request_cancel(cancelled)
    imitation.decide_cancel(cancelled, approved=True)
    imitation.request_cancel(requested)

    orders = {o.external_id: o for o in channel.fetch_orders(None).orders}

    assert orders[cancelled].cancelled is True
    assert isinstance(orders[requested], IncomingOrder)
    assert "waits for eBay's decision" in (orders[requested].awaiting or "")

    imitation.decide_cancel(requested, approved=False)
    again = {o.external_id: o for o in channel.fetch_orders(None).orders}
    assert isinstance(again[requested], IncomingOrder) and not again[requested].cancelled
    assert again[requested].awaiting is None
    assert again[requested].updated_at > datetime.now(UTC) - timedelta(minutes=1)
