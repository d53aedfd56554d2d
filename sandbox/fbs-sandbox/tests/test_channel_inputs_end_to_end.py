"""Bad channel input and upstream failures, through the real WooCommerce plugin and pipeline.

Each input ends in a rejected or held order with a clear reason, or in a retried poll;
the loop never dies, and once the store recovers every accepted order is there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fbs_core.db import repository as repo
from fbs_core.server import WebhookServer, create_webhook_app
from fbs_core.testing import fakes
from fbs_core.testing.harness import build_engine
from fbs_core.testing.ledger import forget_shared_ledgers
from fbs_sandbox.serving import serve
from fbs_sandbox.woocommerce import WooCommerceImitation

KEY, SECRET, HOOK_SECRET = "ck_test_e2e", "cs_test_e2e", "whsec_e2e"
AUSTIN = {
    "first_name": "Pat",
    "last_name": "Buyer",
    "address_1": "100 Congress Ave",
    "city": "Austin",
    "state": "TX",
    "postcode": "78701",
    "country": "US",
}


@pytest.fixture
def store() -> Iterator[tuple[WooCommerceImitation, str]]:
    imitation = WooCommerceImitation(KEY, SECRET)
    server = serve(imitation.app)
    yield imitation, server.url
    server.stop()


@pytest.fixture
def engine(store, fbs_database_url):
    fakes.reset()
    forget_shared_ledgers()
    _, url = store
    config = {
        "scheduler": {"workers": 2, "backoff_base_seconds": 0.01},
        "channels": {
            "shop": {
                "type": "woocommerce",
                "options": {
                    "url": url,
                    "consumer_key": KEY,
                    "consumer_secret": SECRET,
                    "timeout": 1,
                    "webhook_secret": HOOK_SECRET,
                },
            }
        },
        "suppliers": {
            "east": {
                "type": "fake-supplier",
                "options": {"ship_from_zip": "07102", "generated_stock_seed": 1},
            }
        },
        "payments": {"card": {"type": "fake-payment"}},
    }
    built = build_engine(fbs_database_url, config, load_entrypoints=True)
    yield built
    built.stop()
    built.db.dispose()
    fakes.reset()
    forget_shared_ledgers()


def orders_by_external_id(engine) -> dict:
    with engine.db.transaction() as session:
        return {o.external_id: o for o in repo.list_orders(session, "default")}


def poll_state(engine):
    with engine.db.transaction() as session:
        return repo.instance_state(session, "default", "channel", "shop")


def add(store, shipping=AUSTIN, lines=None):
    imitation, _ = store
    return str(
        imitation.add_order(
            lines=lines or [{"sku": "OIL-FLT-5W30", "quantity": 1, "price": "12.99"}],
            shipping=shipping,
            shipping_total="15.00",
        )["id"]
    )


def test_each_bad_order_ends_rejected_or_held_with_its_reason(store, engine):
    cases = {
        add(
            store,
            shipping={
                **AUSTIN,
                "city": "Toronto",
                "state": "ON",
                "postcode": "M5H 1A1",
                "country": "CA",
            },
        ): ("rejected", "non_us_destination"),
        add(
            store,
            shipping={
                **AUSTIN,
                "address_1": "Unit 2050 Box 4190",
                "city": "APO",
                "state": "AP",
                "postcode": "96278",
            },
        ): ("rejected", "military_not_enabled"),
        add(store, lines=[{"sku": "NO-SUCH-PART", "quantity": 1, "price": "10.00"}]): (
            "held",
            "unknown_sku",
        ),
        add(store, lines=[{"sku": "OIL-FLT-5W30", "quantity": 0, "price": "12.99"}]): (
            "rejected",
            "invalid_quantity",
        ),
        add(store, lines=[{"sku": "OIL-FLT-5W30", "quantity": -1, "price": "12.99"}]): (
            "rejected",
            "invalid_quantity",
        ),
        add(store, shipping={**AUSTIN, "address_1": "", "city": ""}): (
            "held",
            "missing_address_fields",
        ),
        add(
            store,
            lines=[
                {"sku": "OIL-FLT-5W30", "quantity": 1, "price": "12.99", "name": "x" * 5_000_000}
            ],
        ): ("rejected", "order_too_large"),
        add(store): ("completed", None),
    }

    engine.run_until_idle()

    orders = orders_by_external_id(engine)
    for external_id, (status, reason) in cases.items():
        order = orders[external_id]
        assert (order.status.value, order.hold_reason) == (status, reason), external_id
        if reason:
            assert order.hold_message, external_id


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (lambda store: store.fail_next(401), "auth_failed"),
        (lambda store: store.fail_next(429, headers={"Retry-After": "7"}), "rate_limited"),
        (lambda store: store.fail_next(500), "upstream_unavailable"),
        (lambda store: store.malformed_next(), "malformed_response"),
        (lambda store: store.slow_next(3), "timeout"),
    ],
)
def test_store_failures_are_retried_and_nothing_accepted_is_lost(store, engine, fault, code):
    imitation, _ = store
    external_id = add(store)
    fault(imitation)

    engine.run_until_idle()

    state = poll_state(engine)
    assert state.last_error.startswith(code)
    assert state.consecutive_failures == 1
    assert orders_by_external_id(engine) == {}
    if code == "rate_limited":
        assert (state.next_poll_at - engine.ctx.now()).total_seconds() > 6

    engine.run_until_idle()  # the store is back

    assert orders_by_external_id(engine)[external_id].status.value == "completed"
    assert poll_state(engine).last_error is None


def test_a_signed_webhook_makes_the_order_move_at_once_and_a_forged_one_changes_nothing(
    store, engine
):
    imitation, _ = store
    engine.run_until_idle()  # first poll done: the next one is a whole interval away
    order_id = int(add(store))
    server = WebhookServer(
        create_webhook_app(engine.runtime.channels, engine.request_poll), port=0
    ).start()
    try:
        forged = imitation.send_webhook(
            f"{server.url}/webhooks/shop", topic="order.created", order_id=order_id, secret="guess"
        )
        assert forged.status_code == 401
        engine.tick()
        assert orders_by_external_id(engine) == {}

        signed = imitation.send_webhook(
            f"{server.url}/webhooks/shop",
            topic="order.created",
            order_id=order_id,
            secret=HOOK_SECRET,
        )
        assert signed.status_code == 200
        engine.tick()
        assert str(order_id) in orders_by_external_id(engine)
    finally:
        server.stop()
