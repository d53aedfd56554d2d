"""Bad input and upstream failures end in a retry or a held/rejected order with a reason."""

from __future__ import annotations

import pytest

from fbs_core.db import repository as repo
from fbs_core.domain import Address, OrderStatus, UnreadableOrder
from fbs_core.errors import AuthError, FatalError, PaymentDeclined, RetriableError
from fbs_core.pipeline import actions
from fbs_core.testing import fakes
from fbs_core.testing.fakes import EPOCH, make_order


def only_order(engine):
    with engine.db.transaction() as session:
        orders = repo.list_orders(session, engine.ctx.merchant_id)
    assert len(orders) == 1
    return orders[0]


def detail(engine, order_id: int = 1):
    with engine.db.transaction() as session:
        return repo.order_detail(session, engine.ctx.merchant_id, order_id)


TORONTO = Address(
    name="A", line1="1 King St W", city="Toronto", region="ON", postal_code="M5H 1A1", country="CA"
)
APO = Address(
    name="B", line1="Unit 2050 Box 4190", city="APO", region="AP", postal_code="96278", country="US"
)
SAN_JUAN = Address(
    name="C",
    line1="1 Calle Fortaleza",
    city="San Juan",
    region="PR",
    postal_code="00901",
    country="US",
)
NO_STREET = Address(name="D", city="Austin", region="TX", postal_code="78701", country="US")


@pytest.mark.parametrize(
    ("ship_to", "status", "reason"),
    [
        (TORONTO, OrderStatus.rejected, "non_us_destination"),
        (APO, OrderStatus.rejected, "military_not_enabled"),
        (SAN_JUAN, OrderStatus.rejected, "territory_not_enabled"),
        (NO_STREET, OrderStatus.held, "missing_address_fields"),
    ],
)
def test_destinations_fbs_cannot_ship_to_are_stopped_with_the_reason(
    make_engine, ledger, ship_to, status, reason
):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)], ship_to=ship_to))

    engine.run_until_idle()

    order = only_order(engine)
    assert (order.status, order.hold_reason) == (status, reason)
    assert order.hold_message
    assert ledger.count("charge") == 0


def test_territories_and_military_ship_when_the_merchant_enables_them(make_engine):
    engine = make_engine(ship_to_territories=True, ship_to_military=True)
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)], ship_to=SAN_JUAN))
    fakes.market("default").add(make_order("A2", [("OIL-FLT-5W30", 1)], ship_to=APO))

    engine.run_until_idle()

    with engine.db.transaction() as session:
        assert repo.count_by_status(session, "default") == {"completed": 2}


@pytest.mark.parametrize("quantity", [0, -2])
def test_zero_or_negative_quantity_is_rejected(make_engine, quantity):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1), ("WPR-BLD-22", quantity)]))

    engine.run_until_idle()

    order = only_order(engine)
    assert (order.status, order.hold_reason) == (OrderStatus.rejected, "invalid_quantity")
    assert "WPR-BLD-22" in order.hold_message


def test_unknown_part_is_held_not_lost(make_engine, ledger):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("NOPE-123", 1)]))

    engine.run_until_idle()

    order = only_order(engine)
    assert (order.status, order.hold_reason) == (OrderStatus.held, "unknown_sku")
    assert "NOPE-123" in order.hold_message
    assert ledger.count("charge") == 0


def test_an_order_the_channel_could_not_map_is_kept_as_rejected(make_engine):
    engine = make_engine()
    fakes.market("default").add(
        UnreadableOrder(
            external_id="X9",
            reason="order_too_large",
            message="The order is 5 MB.",
            updated_at=EPOCH,
        )
    )

    engine.run_until_idle()

    order = only_order(engine)
    assert (order.external_id, order.status, order.hold_reason) == (
        "X9",
        OrderStatus.rejected,
        "order_too_large",
    )


def test_too_many_lines_is_rejected(make_engine):
    engine = make_engine(max_lines=2)
    fakes.market("default").add(
        make_order("A1", [("OIL-FLT-5W30", 1), ("WPR-BLD-22", 1), ("AIR-FLT-CRV", 1)])
    )

    engine.run_until_idle()

    assert only_order(engine).hold_reason == "order_too_large"


def test_manual_mode_holds_until_the_merchant_approves(make_engine, ledger):
    engine = make_engine(mode="manual")
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.run_until_idle()
    assert only_order(engine).hold_reason == "manual_review"
    assert ledger.count("charge") == 0

    actions.approve_order(engine.ctx, 1)
    engine.run_until_idle()

    assert only_order(engine).status is OrderStatus.completed
    assert "approved_by_merchant" in [e.event for e in detail(engine).timeline]


def test_orders_above_the_approval_limit_wait_for_the_merchant(make_engine):
    engine = make_engine(hold_above_cents=10_000)
    fakes.market("default").add(make_order("A1", [("RAD-CAM-18", 1)]))
    fakes.market("default").add(make_order("A2", [("OIL-FLT-5W30", 1)]))

    engine.run_until_idle()

    with engine.db.transaction() as session:
        orders = {o.external_id: o for o in repo.list_orders(session, "default")}
    assert orders["A1"].hold_reason == "above_threshold"
    assert orders["A2"].status is OrderStatus.completed


def test_channel_outage_is_retried_and_the_loop_goes_on(make_engine):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("shop", RetriableError("HTTP 429", retry_after=30, code="rate_limited"))

    engine.run_until_idle()

    with engine.db.transaction() as session:
        state = repo.instance_state(session, "default", "channel", "shop")
        assert state.consecutive_failures == 1
        assert "rate_limited" in state.last_error
        assert (state.next_poll_at - engine.ctx.now()).total_seconds() >= 29
        assert repo.list_orders(session, "default") == []

    engine.run_until_idle()  # the next run polls again
    assert only_order(engine).status is OrderStatus.completed


def test_bad_channel_credentials_are_reported_without_stopping_other_work(make_engine):
    engine = make_engine()
    fakes.fail_next("shop", AuthError("HTTP 401: consumer key is invalid"))

    engine.run_until_idle()

    with engine.db.transaction() as session:
        state = repo.instance_state(session, "default", "channel", "shop")
        assert state.last_error == "auth_failed: HTTP 401: consumer key is invalid"
        assert repo.instance_state(session, "default", "supplier", "east").last_error is None


def test_a_warehouse_outage_is_retried_with_the_same_purchase_order_number(make_engine, ledger):
    engine = make_engine(on_no_stock="hold")
    fakes.market("default").add(
        make_order(
            "A1",
            [("OIL-FLT-5W30", 1)],
            ship_to=Address(
                name="N",
                line1="1 Broad St",
                city="Newark",
                region="NJ",
                postal_code="07102",
                country="US",
            ),
        )
    )
    fakes.fail_next("east", RetriableError("HTTP 500"))  # offers() for sourcing
    fakes.fail_next("east", RetriableError("HTTP 503"))

    engine.run_until_idle()
    while engine.drain():
        pass
    engine.run_until_idle()

    assert only_order(engine).status is OrderStatus.completed
    assert ledger.count("purchase_order") == 1


def test_retries_that_run_out_hold_the_order_and_retry_resumes_it(make_engine, ledger):
    engine = make_engine()
    engine.ctx.scheduler = engine.ctx.scheduler.model_copy(
        update={"max_attempts": 2, "backoff_base_seconds": 0.001}
    )
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("card", RetriableError("HTTP 500"), RetriableError("HTTP 502"))

    for _ in range(5):
        engine.run_until_idle()

    order = only_order(engine)
    assert (order.status, order.hold_reason) == (OrderStatus.held, "upstream_unavailable")
    assert "card" in order.hold_message

    actions.retry_order(engine.ctx, order.id)
    engine.run_until_idle()

    assert only_order(engine).status is OrderStatus.completed
    assert ledger.count("charge") == 1


def test_a_declined_card_holds_the_order_and_a_retry_charges_with_a_new_key(make_engine, ledger):
    config = None
    engine = make_engine(config)
    engine.runtime.payments["card"].options.decline["#A1"] = "insufficient_funds"
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))

    engine.run_until_idle()
    order = only_order(engine)
    assert (order.status, order.hold_reason) == (OrderStatus.held, "insufficient_funds")

    engine.runtime.payments["card"].options.decline.clear()  # the merchant updated the card
    actions.retry_order(engine.ctx, order.id)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    assert [c.status for c in d.charges] == ["failed", "succeeded"]
    assert d.charges[0].idempotency_key != d.charges[1].idempotency_key
    assert ledger.count("charge") == 1


def test_a_permanent_refusal_holds_the_order_with_the_remote_message(make_engine):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next(
        "card",
        PaymentDeclined("The card needs its holder (3-D Secure).", code="authentication_required"),
    )

    engine.run_until_idle()

    order = only_order(engine)
    assert (order.status, order.hold_reason) == (OrderStatus.held, "authentication_required")
    assert "3-D Secure" in order.hold_message


def test_a_tracking_push_refused_holds_the_shipped_order(make_engine, ledger):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next(
        "shop", FatalError("order A1 was deleted on the channel"), method="push_tracking"
    )

    engine.run_until_idle()

    order = only_order(engine)
    assert (order.status, order.hold_reason) == (OrderStatus.held, "upstream_rejected")
    assert "deleted" in order.hold_message
    assert detail(engine).purchase_orders[0].status == "shipped"


def test_an_unexpected_error_while_recording_a_result_is_retried_after_the_lease(
    make_engine, ledger, monkeypatch
):
    import time

    from fbs_core.pipeline.handlers import HANDLERS

    engine = make_engine()
    engine.ctx.scheduler = engine.ctx.scheduler.model_copy(update={"lease_seconds": 1})
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    handler = HANDLERS["charge"]
    real_apply = handler.apply
    calls = []

    def flaky_apply(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(handler, "apply", flaky_apply)

    engine.run_until_idle()  # survives the error; the charge stays leased
    assert only_order(engine).status is OrderStatus.sourced
    time.sleep(1.1)
    engine.run_until_idle()

    assert only_order(engine).status is OrderStatus.completed
    assert ledger.count("charge") == 1 and ledger.calls("charge") == 2  # replayed, not repeated


class Clock:
    def __init__(self):
        from datetime import UTC, datetime

        self.now = datetime.now(UTC)

    def __call__(self):
        return self.now


def _late_retry_engine(make_engine, clock, modules=()):
    engine = make_engine()
    engine.ctx.clock = clock
    engine.ctx.scheduler = engine.ctx.scheduler.model_copy(
        update={"backoff_base_seconds": 60, "backoff_max_seconds": 600}
    )
    return engine


def test_a_charge_retried_after_the_key_window_is_looked_up_instead_of_charged_again(
    make_engine, ledger
):
    from datetime import timedelta

    clock = Clock()
    engine = _late_retry_engine(make_engine, clock)
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("card", fakes.AfterEffect(RetriableError("connection reset")), method="charge")
    engine.run_until_idle()
    assert ledger.count("charge") == 1  # charged, but fbs never heard back

    clock.now += timedelta(hours=30)  # far past the gateway's 24 h key window
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    assert [c.status for c in d.charges] == ["succeeded"]
    assert ledger.calls("charge") == 1  # found by looking it up, not sent again


def test_a_late_retry_on_a_gateway_that_cannot_look_charges_up_is_held(
    make_engine, ledger, monkeypatch
):
    from datetime import timedelta

    from fbs_core.adapters import PaymentGateway

    clock = Clock()
    engine = _late_retry_engine(make_engine, clock)
    monkeypatch.setattr(
        type(engine.runtime.payments["card"]), "find_charge", PaymentGateway.find_charge
    )
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("card", fakes.AfterEffect(RetriableError("connection reset")), method="charge")
    engine.run_until_idle()

    clock.now += timedelta(hours=30)
    engine.run_until_idle()

    order = only_order(engine)
    assert (order.status, order.hold_reason) == (OrderStatus.held, "charge_outcome_unknown")
    assert "dashboard" in order.hold_message
    assert ledger.calls("charge") == 1
