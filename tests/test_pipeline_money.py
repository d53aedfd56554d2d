"""Money that cannot go astray: refunds past the key window, charges answered out of turn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fbs_core.adapters import PaymentGateway
from fbs_core.db import repository as repo
from fbs_core.domain import OrderStatus
from fbs_core.errors import OutOfStock, RetriableError
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


@pytest.fixture(autouse=True)
def _no_leftover_failures():
    yield
    fakes.clear_failures()
