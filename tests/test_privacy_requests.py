"""Privacy requests a channel relays: erase a buyer's personal data, keep the money records.

* erasure blanks name, company, street, city, phone and e-mail on the order and on the
  purchase command that copied them; state, ZIP and country (tax) and every charge stay;
* orders are picked by external id, buyer e-mail, a channel reference or the whole store,
  and only that store's orders of this merchant;
* a second request changes nothing more; a report writes what fbs holds to the log;
* over HTTP, a delivery's privacy requests are carried out before it is answered, and a
  failure answers 500 so the sender retries.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

import httpx

from fbs_core.adapters import OrderSource, WebhookResult
from fbs_core.db import repository as repo
from fbs_core.db.models import OutboxCommandRow
from fbs_core.domain import Address, OrderBatch
from fbs_core.domain.privacy import PrivacyAction, PrivacyRequest
from fbs_core.server import WebhookServer, create_webhook_app
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order

STORE = "fake:default"


def address(name: str, email: str) -> Address:
    return Address(
        name=name,
        company="Garage Inc",
        line1="100 Congress Ave",
        line2="Suite 2",
        city="Austin",
        region="TX",
        postal_code="78701",
        country="US",
        phone="+1 512 555 0100",
        email=email,
    )


def imported(make_engine, *orders):
    engine = make_engine()
    for order in orders:
        fakes.market("default").add(order)
    engine.run_until_idle()
    return engine


def order_row(engine, external_id: str):
    with engine.db.transaction() as session:
        row = repo.find_order(session, engine.ctx.merchant_id, STORE, external_id)
        return row.ship_to, row.status, row.id


def test_erasing_by_email_blanks_personal_fields_and_keeps_tax_fields_and_money(make_engine):
    engine = imported(
        make_engine,
        make_order("A1", [("OIL-FLT-5W30", 1)], ship_to=address("Pat Buyer", "Pat@Example.com")),
        make_order("B2", [("OIL-FLT-5W30", 1)], ship_to=address("Sam Other", "sam@example.com")),
    )
    _, status_before, order_id = order_row(engine, "A1")
    with engine.db.transaction() as session:
        charges_before = [(c.amount_cents, c.status) for c in repo.charges_for(session, order_id)]

    engine.apply_privacy(
        PrivacyRequest(PrivacyAction.erase, STORE, email="pat@example.com", origin="test")
    )

    ship_to, status, _ = order_row(engine, "A1")
    assert {
        k: ship_to[k] for k in ("name", "company", "line1", "line2", "city", "phone", "email")
    } == {k: "[erased]" for k in ("name", "company", "line1", "line2", "city", "phone", "email")}
    assert (ship_to["region"], ship_to["postal_code"], ship_to["country"]) == ("TX", "78701", "US")
    assert status == status_before
    with engine.db.transaction() as session:
        assert [(c.amount_cents, c.status) for c in repo.charges_for(session, order_id)] == (
            charges_before
        )
        payloads = [
            command.payload
            for command in session.query(OutboxCommandRow).filter_by(order_id=order_id)
            if "ship_to" in command.payload
        ]
        detail = repo.order_detail(session, engine.ctx.merchant_id, order_id)
    assert charges_before, "the order was charged before the erasure"
    assert payloads and all(p["ship_to"]["name"] == "[erased]" for p in payloads)
    assert [e.event for e in detail.timeline].count("personal_data_erased") == 1
    assert order_row(engine, "B2")[0]["name"] == "Sam Other"


def test_a_second_erasure_changes_nothing_more(make_engine):
    engine = imported(
        make_engine,
        make_order("A1", [("OIL-FLT-5W30", 1)], ship_to=address("Pat Buyer", "pat@example.com")),
    )
    request = PrivacyRequest(PrivacyAction.erase, STORE, external_ids=("A1",))

    from fbs_core.pipeline.privacy import apply_privacy_request

    assert apply_privacy_request(engine.ctx, request).orders == 1
    assert apply_privacy_request(engine.ctx, request).orders == 0


def test_orders_are_picked_by_channel_reference_or_whole_store_and_never_another_store(
    make_engine,
):
    tagged = make_order("A1", [("OIL-FLT-5W30", 1)]).model_copy(
        update={"channel_data": {"buyer": "ebay-user-42"}}
    )
    engine = imported(make_engine, tagged, make_order("B2", [("OIL-FLT-5W30", 1)]))

    from fbs_core.pipeline.privacy import apply_privacy_request

    other_store = PrivacyRequest(PrivacyAction.erase, "fake:elsewhere", whole_store=True)
    assert apply_privacy_request(engine.ctx, other_store).orders == 0
    by_reference = PrivacyRequest(
        PrivacyAction.erase, STORE, channel_reference=("buyer", "ebay-user-42")
    )
    assert apply_privacy_request(engine.ctx, by_reference).orders == 1
    assert order_row(engine, "A1")[0]["name"] == "[erased]"
    assert order_row(engine, "B2")[0]["name"] == "Pat Buyer"
    with engine.db.transaction() as session:
        row = repo.find_order(session, engine.ctx.merchant_id, STORE, "A1")
        assert row.channel_data["buyer"] == "[erased]"

    whole = PrivacyRequest(PrivacyAction.erase, STORE, whole_store=True)
    assert apply_privacy_request(engine.ctx, whole).orders == 1
    assert order_row(engine, "B2")[0]["name"] == "[erased]"


def test_a_data_request_writes_what_fbs_holds_to_the_log(make_engine, caplog):
    engine = imported(
        make_engine,
        make_order("A1", [("OIL-FLT-5W30", 2)], ship_to=address("Pat Buyer", "pat@example.com")),
    )
    with caplog.at_level(logging.INFO, logger="fbs.privacy"):
        engine.apply_privacy(
            PrivacyRequest(PrivacyAction.report, STORE, email="pat@example.com", origin="test")
        )

    [record] = [r for r in caplog.records if r.name == "fbs.privacy"]
    held = json.loads(record.getMessage().split(": ", 1)[1])
    assert held[0]["external_id"] == "A1"
    assert held[0]["ship_to"]["name"] == "Pat Buyer"
    assert [(line["sku"], line["quantity"]) for line in held[0]["lines"]] == [("OIL-FLT-5W30", 2)]
    assert order_row(engine, "A1")[0]["name"] == "Pat Buyer"


class RedactingChannel(OrderSource):
    """Asks, on every delivery, to erase the orders of the store whose id it is sent."""

    def __init__(self) -> None:
        super().__init__("shop", options=None)

    def fetch_orders(self, cursor: str | None) -> OrderBatch:
        return OrderBatch()

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        request = PrivacyRequest(PrivacyAction.erase, STORE, external_ids=(body.decode(),))
        return WebhookResult(status_code=200, privacy=(request,))


def test_a_deliverys_privacy_request_is_carried_out_before_the_answer(make_engine):
    engine = imported(make_engine, make_order("A1", [("OIL-FLT-5W30", 1)]))
    failing: list[PrivacyRequest] = []

    def broken(request: PrivacyRequest) -> None:
        failing.append(request)
        raise RuntimeError("database down")

    working = create_webhook_app(
        {"shop": RedactingChannel()}, lambda _: None, on_privacy=engine.apply_privacy
    )
    down = create_webhook_app({"shop": RedactingChannel()}, lambda _: None, on_privacy=broken)
    with WebhookServer(working, "127.0.0.1", 0) as ok, WebhookServer(down, "127.0.0.1", 0) as bad:
        refused = httpx.post(f"{bad.url}/webhooks/shop", content=b"A1")
        assert refused.status_code == 500
        assert order_row(engine, "A1")[0]["name"] == "Pat Buyer"
        answered = httpx.post(f"{ok.url}/webhooks/shop", content=b"A1")

    assert answered.status_code == 200
    assert order_row(engine, "A1")[0]["name"] == "[erased]"
    assert len(failing) == 1
