"""Cancellation and no-stock handling: stop what has not started, refund what is stopped."""

from __future__ import annotations

from fbs_core.db import repository as repo
from fbs_core.domain import OrderStatus
from fbs_core.errors import OutOfStock
from fbs_core.pipeline import actions
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order


def detail(engine, order_id: int = 1):
    with engine.db.transaction() as session:
        return repo.order_detail(session, engine.ctx.merchant_id, order_id)


def no_auto_ship(config: dict) -> dict:
    for supplier in config["suppliers"].values():
        supplier["options"]["ship_immediately"] = False
    return config


def test_cancel_before_charge_cancels_with_nothing_to_refund(make_engine, ledger):
    engine = make_engine(mode="manual")
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.run_until_idle()

    actions.cancel(engine.ctx, 1)
    engine.run_until_idle()

    assert detail(engine).order.status is OrderStatus.cancelled
    assert ledger.count("charge") == 0
    assert ledger.count("refund") == 0


def test_cancel_after_the_purchase_order_asks_the_warehouse_and_refunds_what_it_stops(
    make_engine, ledger
):
    from fbs_core.testing.harness import basic_config

    engine = make_engine(no_auto_ship(basic_config()))
    fakes.market("default").add(make_order("A1", [("ALT-REMAN-CIV", 1)]))
    engine.run_until_idle()
    assert detail(engine).order.status is OrderStatus.ordered

    assert "waiting for the warehouses" in actions.cancel(engine.ctx, 1)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.cancelled
    assert d.purchase_orders[0].status == "cancelled"
    assert ledger.count("po_cancel") == 1
    assert [r.status for r in d.refunds] == ["succeeded"]
    assert d.refunds[0].amount_cents == d.charges[0].amount_cents  # parts, core, shipping and tax
    assert d.refunds[0].core_charges_cents == fakes.CATALOG["ALT-REMAN-CIV"][2]
    assert d.charges[0].refunded_cents == d.charges[0].amount_cents
    assert ledger.count("refund") == 1


def test_cancel_after_shipping_refunds_nothing_and_the_order_completes(make_engine, ledger):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.poll_due(force=True)
    engine.drain()  # charged, ordered, shipped at once by the fake warehouse

    actions.cancel(engine.ctx, 1)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    assert ledger.count("refund") == 0
    assert "po_cancel_refused" in [e.event for e in d.timeline]


def test_no_stock_resource_policy_buys_from_the_next_warehouse(make_engine, ledger):
    engine = make_engine(on_no_stock="resource")
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.poll_due(force=True)
    engine.drain()
    # find who was chosen, make it refuse the next order for stock
    chosen = ledger.effects("purchase_order")[0].target
    fakes.fail_next(chosen, OutOfStock("sold out", skus=("OIL-FLT-5W30",)), method="place_order")
    fakes.market("default").add(make_order("A2", [("OIL-FLT-5W30", 1)]))

    engine.run_until_idle()

    d = detail(engine, 2)
    assert d.order.status is OrderStatus.completed
    assert [po.status for po in d.purchase_orders] == ["replaced", "shipped"]
    assert d.purchase_orders[1].supplier != chosen
    assert ledger.count("charge") == 2  # one per order: re-sourcing did not charge again


def test_no_stock_hold_policy_holds_and_approval_re_sources(make_engine, ledger):
    engine = make_engine(on_no_stock="hold")
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("east", OutOfStock("sold out"), method="place_order")
    fakes.fail_next("west", OutOfStock("sold out"), method="place_order")

    engine.run_until_idle()
    d = detail(engine)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.held, "no_stock")

    fakes.clear_failures()  # the other warehouse has stock again
    actions.approve_order(engine.ctx, 1)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    assert ledger.count("purchase_order") == 1


def test_no_stock_cancel_policy_cancels_and_refunds(make_engine, ledger):
    engine = make_engine(on_no_stock="cancel")
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("east", OutOfStock("sold out"), method="place_order")
    fakes.fail_next("west", OutOfStock("sold out"), method="place_order")

    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.cancelled
    assert ledger.count("charge") == 1
    assert ledger.count("refund") == 1
    assert d.refunds[0].amount_cents == d.charges[0].amount_cents


def test_no_warehouse_with_enough_stock_at_sourcing_follows_the_policy(make_engine, ledger):
    engine = make_engine(on_no_stock="cancel", min_stock=10**9)
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))

    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.cancelled
    assert ledger.count("charge") == 0


def test_a_cancel_of_a_final_order_is_a_clear_user_error(make_engine):
    import pytest

    from fbs_core.errors import UserError

    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.run_until_idle()

    with pytest.raises(UserError, match="already completed"):
        actions.cancel(engine.ctx, 1)
    with pytest.raises(UserError, match="no order 99"):
        actions.approve_order(engine.ctx, 99)


def _slow_retries(engine, **changes):
    engine.ctx.scheduler = engine.ctx.scheduler.model_copy(
        update={"backoff_base_seconds": 60, "backoff_max_seconds": 600, **changes}
    )


def test_cancel_while_a_sent_charge_has_no_answer_asks_again_and_refunds_it(make_engine, ledger):
    from fbs_core.errors import RetriableError

    engine = make_engine()
    _slow_retries(engine)
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    # the gateway charges the card, then the connection drops before its answer arrives
    fakes.fail_next("card", fakes.AfterEffect(RetriableError("connection reset")), method="charge")
    engine.run_until_idle()
    assert detail(engine).order.status is OrderStatus.sourced  # waiting to retry the charge
    assert ledger.count("charge") == 1

    actions.cancel(engine.ctx, 1)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.cancelled
    assert [c.status for c in d.charges] == ["succeeded"]  # learnt by asking again, same key
    assert ledger.count("charge") == 1 and ledger.calls("charge") == 2
    assert ledger.count("refund") == 1
    assert d.refunds[0].amount_cents == d.charges[0].amount_cents
    assert ledger.count("purchase_order") == 0


def test_cancel_after_retries_ran_out_on_an_unanswered_charge_still_refunds_it(make_engine, ledger):
    from fbs_core.errors import RetriableError

    engine = make_engine()
    _slow_retries(engine, max_attempts=1)
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("card", fakes.AfterEffect(RetriableError("connection reset")), method="charge")
    engine.run_until_idle()
    assert detail(engine).order.hold_reason == "upstream_unavailable"

    actions.cancel(engine.ctx, 1)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.cancelled
    assert ledger.count("refund") == 1
    assert d.charges[0].refunded_cents == d.charges[0].amount_cents


def test_an_order_changed_upstream_while_its_charge_has_no_answer_is_not_charged_again(
    make_engine, ledger
):
    from fbs_core.errors import RetriableError

    engine = make_engine()
    _slow_retries(engine, max_attempts=1)
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("card", fakes.AfterEffect(RetriableError("connection reset")), method="charge")
    engine.run_until_idle()
    assert detail(engine).order.status is OrderStatus.held

    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 2)], minute=5))
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.lines[0].quantity == 1
    assert "modified_upstream" in [e.event for e in d.timeline]
    assert ledger.count("charge") == 1
