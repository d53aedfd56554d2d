"""Money that cannot go astray: refunds past the key window, charges answered out of turn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fbs_core.adapters import PaymentGateway
from fbs_core.db import repository as repo
from fbs_core.domain import OrderStatus
from fbs_core.errors import OutOfStock, PaymentDeclined, RetriableError
from fbs_core.pipeline import actions
from fbs_core.pipeline.handlers import HANDLERS
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def detail(engine, order_id: int = 1):
    with engine.db.transaction() as session:
        return repo.order_detail(session, engine.ctx.merchant_id, order_id)


def refunding_engine(make_engine, clock: Clock):
    """An engine whose only order is charged, then cancelled for no stock and refunded."""
    engine = make_engine(on_no_stock="cancel")
    engine.ctx.clock = clock
    engine.ctx.scheduler = engine.ctx.scheduler.model_copy(update={"backoff_base_seconds": 60})
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("east", OutOfStock("sold out"), method="place_order")
    fakes.fail_next("west", OutOfStock("sold out"), method="place_order")
    return engine


def refund_answer_lost_then_retried_a_day_later(engine, clock: Clock) -> None:
    fakes.fail_next("card", fakes.AfterEffect(RetriableError("connection reset")), method="refund")
    engine.run_until_idle()
    clock.now += timedelta(hours=30)  # far past the gateway's 24 h key window
    engine.run_until_idle()


# -- (h) refunds retried past the gateway's idempotency window -----------------------


def test_a_refund_retried_after_the_key_window_is_looked_up_instead_of_paid_again(
    make_engine, ledger
):
    clock = Clock()
    engine = refunding_engine(make_engine, clock)

    refund_answer_lost_then_retried_a_day_later(engine, clock)

    d = detail(engine)
    assert d.order.status is OrderStatus.cancelled
    assert ledger.count("refund") == 1
    # Sent once: the gateway had forgotten the key, so a second call would pay again.
    assert ledger.calls("refund") == 1
    assert [(r.status, r.amount_cents) for r in d.refunds] == [
        ("succeeded", d.charges[0].amount_cents)
    ]
    assert d.refunds[0].reference == ledger.effects("refund")[0].result["reference"]
    assert d.charges[0].refunded_cents == d.charges[0].amount_cents


def test_a_refund_retried_within_the_key_window_relies_on_the_key(make_engine, ledger):
    clock = Clock()
    engine = refunding_engine(make_engine, clock)
    fakes.fail_next("card", fakes.AfterEffect(RetriableError("connection reset")), method="refund")
    engine.run_until_idle()

    clock.now += timedelta(hours=1)
    engine.run_until_idle()

    assert [r.status for r in detail(engine).refunds] == ["succeeded"]
    assert ledger.count("refund") == 1 and ledger.calls("refund") == 2  # replayed by key


def test_a_late_refund_on_a_gateway_that_cannot_look_refunds_up_is_not_sent_again(
    make_engine, ledger, monkeypatch
):
    clock = Clock()
    engine = refunding_engine(make_engine, clock)
    monkeypatch.setattr(
        type(engine.runtime.payments["card"]), "find_refund", PaymentGateway.find_refund
    )

    refund_answer_lost_then_retried_a_day_later(engine, clock)

    d = detail(engine)
    assert ledger.calls("refund") == 1
    assert [r.status for r in d.refunds] == ["failed"]
    failed = [e for e in d.timeline if e.event == "refund_failed"]
    assert failed and "refund_outcome_unknown" in failed[-1].message
    assert "dashboard" in failed[-1].message


def test_a_late_refund_that_the_gateway_never_made_is_sent(make_engine, ledger):
    clock = Clock()
    engine = refunding_engine(make_engine, clock)
    fakes.fail_next("card", RetriableError("connection refused"), method="refund")
    engine.run_until_idle()
    assert ledger.count("refund") == 0  # refused before anything happened

    clock.now += timedelta(hours=30)
    engine.run_until_idle()

    assert [r.status for r in detail(engine).refunds] == ["succeeded"]
    assert ledger.count("refund") == 1 and ledger.calls("refund") == 1


# -- (e) a charge's answer applies only to the order that still waits for it -----------


def move_order_while_charging(engine, monkeypatch, **fields) -> None:
    """While the gateway charges, another writer moves the order (``fields`` of its row).

    The gateway has answered (or failed); its outcome is recorded after the move.
    """
    handler = HANDLERS["charge"]
    real_execute = handler.execute

    def execute_then_move(ctx, command):
        try:
            return real_execute(ctx, command)
        finally:
            with engine.db.transaction() as session:
                order = repo.get_order(session, ctx.merchant_id, command.payload["order_id"])
                for name, value in fields.items():
                    setattr(order, name, value)

    monkeypatch.setattr(handler, "execute", execute_then_move)


MOVES = {
    "cancelled on the channel and settled": {"status": OrderStatus.cancelled},
    "held by the merchant's rules": {
        "status": OrderStatus.held,
        "held_from": OrderStatus.sourced,
        "hold_reason": "price_drift",
        "hold_message": "Prices moved beyond the tolerance.",
    },
}


@pytest.mark.parametrize("move", MOVES.values(), ids=MOVES.keys())
def test_a_charge_answered_after_the_order_moved_on_is_refunded_not_applied(
    make_engine, ledger, monkeypatch, move
):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    move_order_while_charging(engine, monkeypatch, **move)

    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is move["status"]
    assert d.order.hold_reason == move.get("hold_reason")
    [charge] = d.charges
    assert (charge.status, charge.reference) == ("succeeded", f"pi_{charge.idempotency_key}")
    assert [(r.status, r.amount_cents) for r in d.refunds] == [("succeeded", charge.amount_cents)]
    assert charge.refunded_cents == charge.amount_cents
    assert ledger.count("charge") == 1 and ledger.count("refund") == 1
    assert ledger.count("purchase_order") == 0 and d.purchase_orders == []
    late = [e for e in d.timeline if e.event == "late_charge"]
    assert len(late) == 1 and f"was {move['status'].value}" in late[0].message


def test_a_held_order_whose_late_charge_was_refunded_is_charged_once_more_on_retry(
    make_engine, ledger, monkeypatch
):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    move_order_while_charging(engine, monkeypatch, **MOVES["held by the merchant's rules"])
    engine.run_until_idle()
    monkeypatch.undo()

    actions.retry_order(engine.ctx, 1)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    standing = sum(c.amount_cents - c.refunded_cents for c in d.charges)
    assert standing == d.charges[-1].amount_cents  # one charge stands, the late one went back
    assert ledger.count("charge") == 2 and ledger.count("refund") == 1
    assert ledger.count("purchase_order") == 1


def test_a_decline_answered_after_the_order_was_cancelled_leaves_it_cancelled(
    make_engine, ledger, monkeypatch
):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("card", PaymentDeclined("declined", code="card_declined"), method="charge")
    handler = HANDLERS["charge"]
    real_execute = handler.execute

    def move_then_execute(ctx, command):
        with engine.db.transaction() as session:
            repo.get_order(session, ctx.merchant_id, 1).status = OrderStatus.cancelled
        return real_execute(ctx, command)

    monkeypatch.setattr(handler, "execute", move_then_execute)

    engine.run_until_idle()

    d = detail(engine)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.cancelled, None)
    assert [c.status for c in d.charges] == ["failed"]
    assert any(e.event == "charge_failed" for e in d.timeline)


def test_a_charge_left_unanswered_after_the_order_was_cancelled_keeps_it_cancelled(
    make_engine, ledger, monkeypatch
):
    engine = make_engine()
    engine.ctx.scheduler = engine.ctx.scheduler.model_copy(update={"max_attempts": 1})
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("card", fakes.AfterEffect(RetriableError("connection reset")), method="charge")
    move_order_while_charging(engine, monkeypatch, status=OrderStatus.cancelled)
    engine.run_until_idle()
    monkeypatch.undo()

    d = detail(engine)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.cancelled, None)
    [unanswered] = [e for e in d.timeline if e.event == "charge_unanswered"]
    assert "fbs orders retry" in unanswered.message

    actions.retry_order(engine.ctx, 1)  # asks the gateway again with the same key
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.cancelled
    assert [(c.status, c.refunded_cents) for c in d.charges] == [
        ("succeeded", d.charges[0].amount_cents)
    ]
    assert ledger.count("charge") == 1 and ledger.count("refund") == 1


@pytest.fixture(autouse=True)
def _no_leftover_failures():
    yield
    fakes.clear_failures()
