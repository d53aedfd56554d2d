"""Trading API mode (``api = "trading"``) through ebaysdk, against the XML imitation.

Specified here, as for the REST mode:

* GetOrders by modification time through every page maps SKU, quantity, unit price,
  buyer-paid shipping, eBay-collected tax, line item ids, the ship-by date and the EIS
  hub address with its reference;
* a listing without a SKU is unreadable naming the listing; a pending cancellation waits;
  a completed one cancels;
* each parcel becomes CompleteSale calls for its lines, and a retry after a lost answer
  reads the order's tracking first and sends nothing twice;
* an invalid token is an AuthError; the call limit (error 518) is retriable;
* every request used only elements the Trading reference defines for its call.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fbs_channel_ebay.ebay_options import EbayOptions
from fbs_channel_ebay.ebay_plugin import make_channel
from fbs_channel_ebay.ebay_trading import EbayTradingChannel
from fbs_core.domain import IncomingOrder, Money, TrackingLine, TrackingPush, UnreadableOrder
from fbs_core.errors import AuthError, RetriableError
from fbs_sandbox.ebay import EbayImitation

from .conftest import AUSTIN, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, line

AUTH_TOKEN = "AgAAAA**AQAAAA**aAAAAA**trading-test-token"


@pytest.fixture
def imitation() -> EbayImitation:
    return EbayImitation(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, trading_token=AUTH_TOKEN)


@pytest.fixture
def trading(server):
    made = []

    def build(**extra):
        options = EbayOptions(
            api="trading",
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            auth_token=extra.pop("auth_token", AUTH_TOKEN),
            dev_id="dev-0123456789",
            trading_url=f"{server.url}/ws/api.dll",
            token_url=f"{server.url}/identity/v1/oauth2/token",
            notification_url=f"{server.url}/commerce/notification/v1",
            **extra,
        )
        channel = make_channel("ebay-trading", options)
        made.append(channel)
        return channel

    yield build
    for channel in made:
        channel.close()


def test_orders_come_in_page_by_page_mapped_as_in_rest_mode(imitation, trading):
    ship_by = datetime(2030, 5, 2, 22, 0, tzinfo=UTC)
    normal = imitation.add_order(
        [line("BRK-PAD-F", 2, "29.50"), line("OIL-FLT", 1, "12.99")],
        AUSTIN, shipping="8.00", tax="5.10", buyer="pat_buyer_77", ship_by=ship_by,
    )  # fmt: skip
    collected = imitation.add_order(
        [line("A", 1, "100.00")], AUSTIN, tax="8.25", ebay_collects_tax=True
    )
    eis = imitation.add_order([line("B")], AUSTIN, eis_reference="EIS-5550012345")
    for n in range(3):
        imitation.add_order([line(f"X{n}")], AUSTIN)
    channel = trading(page_size=2)

    assert isinstance(channel, EbayTradingChannel)
    orders = {o.external_id: o for o in channel.fetch_orders(None).orders}

    assert len(orders) == 6
    mapped = orders[normal["orderId"]]
    assert isinstance(mapped, IncomingOrder)
    assert [(li.sku, li.quantity, li.unit_price.cents) for li in mapped.lines] == [
        ("BRK-PAD-F", 2, 2950),
        ("OIL-FLT", 1, 1299),
    ]
    assert mapped.buyer_paid.shipping == Money(cents=800)
    assert mapped.buyer_paid.tax == Money(cents=510)
    assert mapped.channel_data["buyer"] == "pat_buyer_77"
    assert datetime.fromisoformat(mapped.channel_data["ship_by"]) == ship_by
    assert mapped.ship_to.name == "Pat Buyer" and mapped.ship_to.postal_code == "78701"
    assert all(
        li.channel_data["line_item_id"].startswith(li.channel_data["legacy_item_id"])
        for li in mapped.lines
    )
    assert orders[collected["orderId"]].buyer_paid.tax == Money(cents=0)
    assert orders[collected["orderId"]].buyer_paid.total == Money(cents=10000)
    hub = orders[eis["orderId"]].ship_to
    assert hub.city == "Erlanger" and "Reference #EIS-5550012345" in hub.line2
    assert imitation.trading_problems == []


def test_no_sku_and_cancellations_as_in_rest_mode(imitation, trading):
    no_sku = imitation.add_order([line(None, legacy_item_id="110012345678")], AUSTIN)["orderId"]
    pending = imitation.add_order([line("A")], AUSTIN)["orderId"]
    done = imitation.add_order([line("B")], AUSTIN)["orderId"]
    imitation.request_cancel(pending)
    imitation.request_cancel(done)
    imitation.decide_cancel(done, approved=True)

    orders = {o.external_id: o for o in trading().fetch_orders(None).orders}

    assert isinstance(orders[no_sku], UnreadableOrder)
    assert (
        orders[no_sku].reason == "listing_without_sku" and "110012345678" in orders[no_sku].message
    )
    assert "waits for eBay's decision" in (orders[pending].awaiting or "")
    assert orders[done].cancelled is True


def _push(order, number, skus):
    items = {li["sku"]: li for li in order["lineItems"]}
    return TrackingPush(
        idempotency_key=f"k-{number}",
        external_order_id=order["orderId"],
        carrier="FedEx Ground",
        tracking_number=number,
        shipped_at=datetime(2030, 1, 2, 15, 30, tzinfo=UTC),
        lines=tuple(
            TrackingLine(
                line_id=f"{items[s]['legacyItemId']}-{items[s]['lineItemId']}",
                sku=s,
                quantity=items[s]["quantity"],
                channel_data={
                    "line_item_id": f"{items[s]['legacyItemId']}-{items[s]['lineItemId']}"
                },
            )
            for s in skus
        ),
        completes_order=False,
    )


def test_parcels_become_complete_sale_calls_and_a_lost_answer_sends_nothing_twice(
    imitation, trading
):
    order = imitation.add_order([line("A"), line("B")], AUSTIN)
    channel = trading()
    imitation.lose_next_answer("POST", "/ws/api.dll", call="CompleteSale")
    with pytest.raises(RetriableError):
        channel.push_tracking(_push(order, "7712345", ["A"]))  # done, but the answer is lost

    again = channel.push_tracking(_push(order, "7712345", ["A"]))
    channel.push_tracking(_push(order, "7799999", ["B"]))

    found = imitation.fulfillments(order["orderId"])
    assert [(f["shipmentTrackingNumber"], f["shippingCarrierCode"]) for f in found] == [
        ("7712345", "FedEx"),
        ("7799999", "FedEx"),
    ]
    assert again.already_present is True
    assert imitation.answers_lost == 1 and imitation.duplicate_effects == 0
    assert imitation.order(order["orderId"])["orderFulfillmentStatus"] == "FULFILLED"
    assert imitation.trading_problems == []


def test_a_bad_token_is_an_auth_error_and_the_limit_is_retriable(imitation, trading):
    imitation.add_order([line("A")], AUSTIN)
    with pytest.raises(AuthError, match="Auth'n'Auth"):
        trading(auth_token="AgAAAA**wrong").fetch_orders(None)

    imitation.daily_quota = imitation.calls_today
    with pytest.raises(RetriableError) as raised:
        trading().fetch_orders(None)
    assert raised.value.code == "rate_limited"
