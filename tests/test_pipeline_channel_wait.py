"""A channel may ask fbs to wait before buying (a cancellation the marketplace is deciding).

* a new order that asks to wait is held ``awaiting_channel``: nothing is charged or bought;
* when a later version no longer asks, the order is reviewed again and fulfilled;
* when the channel then cancels it, it ends cancelled with nothing charged;
* an order held for another reason takes the wait, and gets its own review back after;
* once money is taken, the request is only recorded and the order goes on.
"""

from __future__ import annotations

from fbs_core.db import repository as repo
from fbs_core.domain import OrderStatus
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order
from fbs_core.testing.harness import basic_config

WAIT = "A cancellation was requested on the marketplace; waiting for its decision."


def order_of(engine, external_id: str = "A1"):
    with engine.db.transaction() as session:
        [row] = [
            o
            for o in repo.list_orders(session, engine.ctx.merchant_id)
            if o.external_id == external_id
        ]
        return repo.order_detail(session, engine.ctx.merchant_id, row.id)


def publish(minute: int, **changes) -> None:
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)], minute=minute, **changes))


def test_an_order_asking_to_wait_is_held_then_fulfilled_once_it_no_longer_asks(make_engine, ledger):
    engine = make_engine()
    publish(0, awaiting=WAIT)
    engine.run_until_idle()

    d = order_of(engine)
    assert (d.order.status, d.order.hold_reason, d.order.hold_message) == (
        OrderStatus.held,
        "awaiting_channel",
        WAIT,
    )
    assert ledger.count("charge") == 0 and ledger.count("purchase_order") == 0

    publish(5)
    engine.run_until_idle()

    assert order_of(engine).order.status is OrderStatus.completed
    assert ledger.count("charge") == 1 and ledger.count("purchase_order") == 1


def test_an_order_the_channel_then_cancels_ends_with_nothing_charged(make_engine, ledger):
    engine = make_engine()
    publish(0, awaiting=WAIT)
    engine.run_until_idle()

    publish(5, cancelled=True)
    engine.run_until_idle()

    assert order_of(engine).order.status is OrderStatus.cancelled
    assert ledger.count("charge") == 0 and ledger.count("refund") == 0


def test_an_order_held_for_approval_waits_and_then_needs_approval_again(make_engine, ledger):
    engine = make_engine(mode="manual")
    publish(0)
    engine.run_until_idle()
    assert order_of(engine).order.hold_reason == "manual_review"

    publish(5, awaiting=WAIT)
    engine.run_until_idle()
    assert order_of(engine).order.hold_reason == "awaiting_channel"

    publish(9)
    engine.run_until_idle()
    d = order_of(engine)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.held, "manual_review")
    assert ledger.count("charge") == 0


def test_once_money_is_taken_a_wait_is_recorded_and_the_order_goes_on(make_engine, ledger):
    config = basic_config()
    for supplier in config["suppliers"].values():
        supplier["options"]["ship_immediately"] = False
    engine = make_engine(config)
    publish(0)
    engine.run_until_idle()
    assert order_of(engine).order.status is OrderStatus.ordered

    publish(5, awaiting=WAIT)
    engine.run_until_idle()
    d = order_of(engine)
    assert d.order.status is OrderStatus.ordered
    [recorded] = [e for e in d.timeline if e.event == "channel_asks_to_wait"]
    assert recorded.message.startswith(WAIT)

    fakes.ship(ledger, d.purchase_orders[0].supplier, d.purchase_orders[0].po_number)
    engine.run_until_idle()
    assert order_of(engine).order.status is OrderStatus.completed
