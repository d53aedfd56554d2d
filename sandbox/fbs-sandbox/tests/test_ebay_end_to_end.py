"""eBay orders through the real eBay plugin, the eBay and warehouse imitations, and the pipeline.

Specified here:

* an order of two parts shipped as two parcels becomes two shipping fulfillments with
  the right line items, and the first one, whose answer was lost, is not created twice;
* an access token expiring in the middle of a poll is refreshed and the poll brings in
  every order;
* a cancellation requested before anything is bought stops the order: no purchase
  order, no charge, no refund (the order waits, held, while eBay decides; a declined
  request releases it to be fulfilled); one approved after the purchase order asks the warehouse
  to cancel;
* an eBay International Shipping order's hub address and reference reach the
  warehouse's purchase order;
* eBay's daily quota running out makes polls fail as retriable and come back after the
  reset with every order.

Each scenario runs in both modes (Sell Fulfillment and Trading), except the token expiry,
which only OAuth tokens have. Every exchange with the eBay imitation conformed to the
official document (REST) or the call reference (Trading).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fbs_core.db import repository as repo
from fbs_core.testing import fakes
from fbs_core.testing.harness import build_engine
from fbs_core.testing.ledger import forget_shared_ledgers, shared_ledger
from fbs_sandbox.ebay import EbayImitation
from fbs_sandbox.serving import RunningServer, serve
from fbs_sandbox.warehouse import StockItem, WarehouseImitation

CLIENT_ID, CLIENT_SECRET = "fbs-e2e-PRD-0123456789", "PRD-e2e-secret-0123456789"
REFRESH_TOKEN = "v^1.1#i^1#r^1#e2e-refresh-token"
AUTH_TOKEN = "AgAAAA**AQAAAA**e2e-trading-token"
WAREHOUSE_KEY = "wh_key_ebay_e2e"
AUSTIN = {
    "fullName": "Pat Buyer",
    "contactAddress": {
        "addressLine1": "100 Congress Ave",
        "city": "Austin",
        "stateOrProvince": "TX",
        "postalCode": "78701",
        "countryCode": "US",
    },
    "primaryPhone": {"phoneNumber": "5125550100"},
}
PARTS = {"BRK-PAD-F": "59.00", "OIL-FLT-5W30": "12.99"}


class Rig:
    """The two imitations, their servers, and a way to build the engine on them."""

    def __init__(self, ebay: EbayImitation, warehouse: WarehouseImitation) -> None:
        self.ebay = ebay
        self.warehouse = warehouse
        self.ebay_server: RunningServer = serve(ebay.app)
        self.warehouse_server: RunningServer = serve(warehouse.app)

    def stop(self) -> None:
        self.ebay_server.stop()
        self.warehouse_server.stop()


@pytest.fixture
def make_rig(fbs_database_url) -> Iterator[Callable[..., tuple[Rig, Any]]]:
    rigs: list[tuple[Rig, Any]] = []
    fakes.reset()
    forget_shared_ledgers()

    def make(
        *,
        daily_quota: int | None = None,
        split: bool = False,
        ship_delay: float = 0.0,
        mode: str = "fulfillment",
        **options: Any,
    ) -> tuple[Rig, Any]:
        stock = {sku: StockItem(50, 2000) for sku in PARTS}
        rig = Rig(
            EbayImitation(
                CLIENT_ID,
                CLIENT_SECRET,
                REFRESH_TOKEN,
                daily_quota=daily_quota,
                trading_token=AUTH_TOKEN,
            ),
            WarehouseImitation(
                "east",
                WAREHOUSE_KEY,
                stock=stock,
                split_shipments=split,
                ship_delay_seconds=ship_delay,
            ),
        )
        url = rig.ebay_server.url
        config = {
            "scheduler": {"workers": 2, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02},
            "fulfillment": {"price_drift_tolerance_percent": 1000},
            "channels": {
                "shop": {
                    "type": "ebay",
                    "options": {
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                        "refresh_token": REFRESH_TOKEN,
                        "seller_id": rig.ebay.seller_id,
                        "api_url": f"{url}/sell/fulfillment/v1",
                        "token_url": f"{url}/identity/v1/oauth2/token",
                        "notification_url": f"{url}/commerce/notification/v1",
                        **(
                            {
                                "api": "trading",
                                "auth_token": AUTH_TOKEN,
                                "dev_id": "dev-e2e-0123",
                                "trading_url": f"{url}/ws/api.dll",
                            }
                            if mode == "trading"
                            else {}
                        ),
                        **options,
                    },
                }
            },
            "suppliers": {
                "east": {
                    "type": "http",
                    "options": {
                        "base_url": rig.warehouse_server.url,
                        "api_key": WAREHOUSE_KEY,
                        "ship_from_zip": "75201",
                        "timeout": 5,
                    },
                }
            },
            "payments": {"card": {"type": "fake-payment"}},
        }
        engine = build_engine(fbs_database_url, config, load_entrypoints=True)
        rigs.append((rig, engine))
        return rig, engine

    yield make
    for rig, engine in rigs:
        engine.stop()
        engine.db.dispose()
        rig.stop()
    fakes.reset()
    forget_shared_ledgers()


@pytest.fixture(params=["fulfillment", "trading"])
def mode(request) -> str:
    """Each scenario in both modes: the Sell Fulfillment REST API and the Trading API."""
    return request.param


def lose_first_tracking_write(rig: Rig, mode: str) -> None:
    if mode == "trading":
        rig.ebay.lose_next_answer("POST", "/ws/api.dll", call="CompleteSale")
    else:
        rig.ebay.lose_next_answer("POST", "/shipping_fulfillment")


def lines(*skus_and_quantities: tuple[str, int]) -> list[dict[str, Any]]:
    return [
        {"sku": s, "quantity": q, "price": PARTS[s], "title": s} for s, q in skus_and_quantities
    ]


def orders(engine) -> dict[str, Any]:
    with engine.db.transaction() as session:
        return {o.external_id: o for o in repo.list_orders(session, "default")}


def run_until(engine, done: Callable[[], bool], passes: int = 60) -> None:
    for _ in range(passes):
        engine.run_until_idle()
        if done():
            return
        time.sleep(0.05)


def status_of(engine, external_id: str) -> str | None:
    found = orders(engine).get(external_id)
    return found.status.value if found else None


def po_bodies(rig: Rig) -> list[dict[str, Any]]:
    return [
        json.loads(e.body)
        for e in rig.warehouse_server.log.matching("POST", "/v1/purchase-orders")
        if e.path == "/v1/purchase-orders"
    ]


def test_two_parcels_become_two_fulfillments_and_a_lost_answer_makes_no_second(make_rig, mode):
    rig, engine = make_rig(split=True, mode=mode)
    order = rig.ebay.add_order(
        lines(("BRK-PAD-F", 1), ("OIL-FLT-5W30", 2)), AUSTIN, shipping="9.00"
    )
    lose_first_tracking_write(rig, mode)

    run_until(engine, lambda: status_of(engine, order["orderId"]) == "completed")

    assert status_of(engine, order["orderId"]) == "completed"
    ids = {li["sku"]: li["lineItemId"] for li in order["lineItems"]}
    found = rig.ebay.fulfillments(order["orderId"])
    assert sorted(json.dumps(f["lineItems"]) for f in found) == sorted(
        [
            json.dumps([{"lineItemId": ids["BRK-PAD-F"], "quantity": 1}]),
            json.dumps([{"lineItemId": ids["OIL-FLT-5W30"], "quantity": 2}]),
        ]
    )
    assert rig.ebay.answers_lost == 1 and rig.ebay.duplicate_effects == 0
    assert rig.ebay.order(order["orderId"])["orderFulfillmentStatus"] == "FULFILLED"
    assert rig.ebay.contract_problems == [] and rig.ebay.trading_problems == []
    trading_calls = rig.ebay_server.log.matching("POST", "/ws/api.dll")
    rest_calls = rig.ebay_server.log.matching("GET", "/sell/fulfillment/v1/order")
    assert (bool(trading_calls), bool(rest_calls)) == (mode == "trading", mode != "trading")


def test_a_token_expiring_mid_poll_is_refreshed_and_every_order_comes_in(make_rig):
    rig, engine = make_rig(page_size=1)
    placed = {rig.ebay.add_order(lines(("OIL-FLT-5W30", 1)), AUSTIN)["orderId"] for _ in range(3)}
    rig.ebay.expire_tokens_after(1)

    engine.run_until_idle()

    assert placed <= set(orders(engine))
    assert rig.ebay.token_grants >= 2
    assert rig.ebay.contract_problems == []


def test_a_cancellation_requested_before_the_purchase_stops_it_with_nothing_bought(make_rig, mode):
    rig, engine = make_rig(mode=mode)
    order = rig.ebay.add_order(lines(("BRK-PAD-F", 1)), AUSTIN)
    rig.ebay.request_cancel(order["orderId"])

    engine.run_until_idle()
    waiting = orders(engine)[order["orderId"]]
    assert (waiting.status.value, waiting.hold_reason) == ("held", "awaiting_channel")
    rig.ebay.decide_cancel(order["orderId"], approved=True)
    engine.run_until_idle()

    assert orders(engine)[order["orderId"]].status.value == "cancelled"
    assert po_bodies(rig) == []
    ledger = shared_ledger("default")
    assert ledger.count("charge") == 0 and ledger.count("refund") == 0


def test_a_cancellation_ebay_declines_releases_the_order_to_be_fulfilled(make_rig, mode):
    rig, engine = make_rig(mode=mode)
    order = rig.ebay.add_order(lines(("BRK-PAD-F", 1)), AUSTIN)
    rig.ebay.request_cancel(order["orderId"])
    engine.run_until_idle()
    assert orders(engine)[order["orderId"]].hold_reason == "awaiting_channel"

    rig.ebay.decide_cancel(order["orderId"], approved=False)
    run_until(engine, lambda: status_of(engine, order["orderId"]) == "completed")

    assert status_of(engine, order["orderId"]) == "completed"
    assert len(po_bodies(rig)) == 1
    assert shared_ledger("default").count("charge") == 1


def test_a_cancellation_after_the_purchase_order_asks_the_warehouse(make_rig, mode):
    rig, engine = make_rig(ship_delay=3600, mode=mode)
    order = rig.ebay.add_order(lines(("BRK-PAD-F", 1)), AUSTIN)
    run_until(engine, lambda: status_of(engine, order["orderId"]) == "ordered")
    assert status_of(engine, order["orderId"]) == "ordered"

    rig.ebay.request_cancel(order["orderId"])
    rig.ebay.decide_cancel(order["orderId"], approved=True)
    run_until(engine, lambda: status_of(engine, order["orderId"]) == "cancelled")

    assert rig.warehouse.cancellations == 1
    assert status_of(engine, order["orderId"]) == "cancelled"


def test_an_eis_orders_hub_address_and_reference_reach_the_purchase_order(make_rig, mode):
    rig, engine = make_rig(ship_delay=3600, mode=mode)
    order = rig.ebay.add_order(lines(("OIL-FLT-5W30", 1)), AUSTIN, eis_reference="EIS-5550012345")

    run_until(engine, lambda: bool(po_bodies(rig)))

    [body] = po_bodies(rig)
    ship_to = body["ship_to"]
    assert (ship_to["city"], ship_to["region"], ship_to["postal_code"]) == (
        "Erlanger",
        "KY",
        "41025",
    )
    assert "Reference #EIS-5550012345" in ship_to["line2"]
    assert orders(engine)[order["orderId"]].channel_data["ship_to_reference_id"] == "EIS-5550012345"


def test_a_spent_quota_slows_polling_and_loses_no_order(make_rig, mode):
    rig, engine = make_rig(daily_quota=0, mode=mode)
    order = rig.ebay.add_order(lines(("OIL-FLT-5W30", 1)), AUSTIN)

    engine.run_until_idle()
    assert order["orderId"] not in orders(engine)
    assert rig.ebay.rate_limited >= 1
    with engine.db.transaction() as session:
        state = repo.instance_state(session, "default", "channel", "shop")
    assert "call limit" in (state.last_error or "")
    assert state.consecutive_failures >= 1

    rig.ebay.daily_quota = None
    rig.ebay.reset_quota()
    run_until(engine, lambda: order["orderId"] in orders(engine))
    assert order["orderId"] in orders(engine)


def test_account_deletion_forged_is_refused_and_genuine_erases_keeping_money(make_rig):
    import httpx
    from cryptography.hazmat.primitives.asymmetric import ec

    from fbs_core.server import WebhookServer, create_webhook_app

    endpoint = "https://fbs.example.com/app-webhooks/ebay"
    rig, engine = make_rig(
        verification_token="fbs_e2e_verification_token_0123456789", endpoint_url=endpoint
    )
    order = rig.ebay.add_order(lines(("OIL-FLT-5W30", 1)), AUSTIN, buyer="pat_buyer_77")
    run_until(engine, lambda: status_of(engine, order["orderId"]) == "completed")
    body = json.dumps(
        {
            "metadata": {
                "topic": "MARKETPLACE_ACCOUNT_DELETION",
                "schemaVersion": "1.0",
                "deprecated": False,
            },
            "notification": {
                "notificationId": "n-1",
                "eventDate": "2030-03-19T20:43:59.462Z",
                "publishDate": "2030-03-19T20:43:59.679Z",
                "publishAttemptCount": 1,
                "data": {"username": "pat_buyer_77", "userId": "ma8vp1jySJC", "eiasToken": "x"},
            },
        }
    ).encode()
    forged = rig.ebay.signature_header(body, key=ec.generate_private_key(ec.SECP256R1()))
    app = create_webhook_app(
        engine.runtime.channels,
        lambda _: None,
        app_webhooks=engine.runtime.app_webhooks(),
        on_privacy=engine.apply_privacy,
    )
    ledger = shared_ledger("default")
    charges = ledger.count("charge")
    with WebhookServer(app, "127.0.0.1", 0) as server:
        url = f"{server.url}/app-webhooks/ebay"
        refused = httpx.post(url, content=body, headers={"X-EBAY-SIGNATURE": forged})
        unsigned = httpx.post(url, content=body)
        kept = orders(engine)[order["orderId"]].ship_to
        accepted = httpx.post(
            url, content=body, headers={"X-EBAY-SIGNATURE": rig.ebay.signature_header(body)}
        )

    assert (refused.status_code, unsigned.status_code) == (412, 412)
    assert kept.name == "Pat Buyer"
    assert accepted.status_code == 204
    erased = orders(engine)[order["orderId"]]
    assert erased.ship_to.name != "Pat Buyer" and erased.ship_to.line1 != "100 Congress Ave"
    assert erased.ship_to.postal_code == "78701"
    assert erased.buyer_paid is not None and erased.buyer_paid.total.cents > 0
    assert ledger.count("charge") == charges > 0


def test_an_order_that_will_miss_its_ship_by_date_raises_the_notification(make_rig, mode, caplog):
    import logging
    from datetime import UTC, datetime, timedelta

    import fbs_core

    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple[str, Any, str]] = []

        @fbs_core.hookimpl
        def fbs_order_ship_by_at_risk(self, order, event):
            self.calls.append((order.external_id, order.ship_by, event.data["risk"]))

    rig, engine = make_rig(ship_delay=3600, mode=mode)  # the warehouse will not ship in time
    recorder = Recorder()
    engine.ctx.pm.register(recorder, name="ship-by-recorder")
    ship_by = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    order = rig.ebay.add_order(lines(("OIL-FLT-5W30", 1)), AUSTIN, ship_by=ship_by)

    with caplog.at_level(logging.WARNING, logger="fbs"):
        run_until(engine, lambda: bool(recorder.calls))

    assert recorder.calls == [(order["orderId"], ship_by, "no_tracking")]
    assert orders(engine)[order["orderId"]].ship_by == ship_by
    assert "tracking is not on the channel" in caplog.text
