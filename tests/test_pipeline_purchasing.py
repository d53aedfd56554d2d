"""Purchase orders as warehouses see them, and what their answers do to an order and its money.

* a part on two store lines is one purchase-order line, and parcels land on both store lines;
* an acceptance recorded late (after the parcel shipped) never moves anything backwards;
* a request a warehouse rejects as invalid is not retried; money taken for it is named;
* repricing on acceptance goes through the price-drift rule;
* an out-of-stock naming some parts re-sources only those parts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fbs_core.db import repository as repo
from fbs_core.domain import OrderStatus
from fbs_core.errors import FatalError, OutOfStock, RetriableError
from fbs_core.pipeline import actions
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order
from fbs_core.testing.harness import basic_config


def detail(engine, order_id: int = 1):
    with engine.db.transaction() as session:
        return repo.order_detail(session, engine.ctx.merchant_id, order_id)


def one_warehouse(**options) -> dict:
    """The basic config with only the ``east`` warehouse, its options changed."""
    config = basic_config()
    del config["suppliers"]["west"]
    config["suppliers"]["east"]["options"].update(options)
    return config


def refunded(d) -> int:
    return sum(r.amount_cents for r in d.refunds if r.status == "succeeded")


def charged(d) -> int:
    return sum(c.amount_cents for c in d.charges if c.status == "succeeded")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


# -- (b) a part number on two lines of one order --------------------------------------


def test_a_part_on_two_store_lines_is_one_purchase_order_line_and_ships_to_both(
    make_engine, ledger
):
    engine = make_engine(one_warehouse())
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 2), ("OIL-FLT-5W30", 3)]))

    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    [po] = ledger.effects("purchase_order")
    assert [(x["sku"], x["quantity"]) for x in po.payload["lines"]] == [("OIL-FLT-5W30", 5)]
    assert [(line.line_id, line.shipped_quantity) for line in d.order.lines] == [
        ("A1-1", 2),
        ("A1-2", 3),
    ]
    [push] = ledger.effects("tracking")
    assert [(x["line_id"], x["quantity"]) for x in push.payload["lines"]] == [
        ("A1-1", 2),
        ("A1-2", 3),
    ]
    assert ledger.count("charge") == 1 and ledger.count("refund") == 0


def test_retrying_an_order_held_for_a_part_listed_twice_sends_it_once(make_engine, ledger):
    engine = make_engine(one_warehouse())
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 2), ("OIL-FLT-5W30", 3)]))
    fakes.fail_next(
        "east",
        FatalError("A part number appears on two lines.", code="invalid_request"),
        method="place_order",
    )
    engine.run_until_idle()
    assert detail(engine).order.hold_reason == "invalid_request"
    with engine.db.transaction() as session:  # the command as older versions wrote it
        [place] = [c for c in repo.commands_for(session, 1) if c.kind == "place_po"]
        line = place.payload["lines"][0]
        place.payload = {
            **place.payload,
            "lines": [{**line, "quantity": 2}, {**line, "quantity": 3}],
        }

    actions.retry_order(engine.ctx, 1)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    [po] = ledger.effects("purchase_order")
    assert [(x["sku"], x["quantity"]) for x in po.payload["lines"]] == [("OIL-FLT-5W30", 5)]


def test_partial_parcels_of_a_merged_part_land_on_the_store_lines_in_order(make_engine, ledger):
    engine = make_engine(one_warehouse(ship_immediately=False))
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 2), ("OIL-FLT-5W30", 3)]))
    engine.run_until_idle()
    [po] = detail(engine).purchase_orders

    fakes.ship_part(ledger, "east", po.po_number, 1, {"OIL-FLT-5W30": 3})
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.partially_shipped
    assert [line.shipped_quantity for line in d.order.lines] == [2, 1]
    [push] = ledger.effects("tracking")
    assert [(x["line_id"], x["quantity"]) for x in push.payload["lines"]] == [
        ("A1-1", 2),
        ("A1-2", 1),
    ]

    fakes.ship_part(ledger, "east", po.po_number, 2, {"OIL-FLT-5W30": 2})
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    assert [line.shipped_quantity for line in d.order.lines] == [2, 3]
    assert [
        (x["line_id"], x["quantity"]) for x in ledger.effects("tracking")[1].payload["lines"]
    ] == [("A1-2", 2)]


def test_cancelling_a_purchase_order_with_a_merged_part_refunds_each_unit_once(make_engine, ledger):
    engine = make_engine(one_warehouse(ship_immediately=False))
    fakes.market("default").add(
        make_order("A1", [("OIL-FLT-5W30", 1), ("WPR-BLD-22", 1), ("OIL-FLT-5W30", 1)])
    )
    engine.run_until_idle()
    assert detail(engine).order.status is OrderStatus.ordered

    actions.cancel(engine.ctx, 1)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.cancelled
    assert [r.amount_cents for r in d.refunds] == [d.charges[0].amount_cents]
    assert ledger.count("refund") == 1


# -- (i) events out of order ----------------------------------------------------------


def test_an_acceptance_recorded_after_the_parcel_shipped_keeps_it_shipped_and_completes(
    make_engine, ledger
):
    clock = Clock()
    engine = make_engine(one_warehouse())
    engine.ctx.clock = clock
    engine.ctx.scheduler = engine.ctx.scheduler.model_copy(
        update={"backoff_base_seconds": 60, "backoff_max_seconds": 600}
    )
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    # the warehouse accepts (and ships at once), but its answer is lost
    fakes.fail_next(
        "east", fakes.AfterEffect(RetriableError("connection reset")), method="place_order"
    )
    engine.run_until_idle()
    d = detail(engine)
    assert d.order.status is OrderStatus.shipped
    assert ledger.count("tracking") == 1

    clock.now += timedelta(minutes=10)  # the retry is due: the warehouse replays its answer
    engine.run_until_idle()

    d = detail(engine)
    assert [po.status for po in d.purchase_orders] == ["shipped"]
    assert d.purchase_orders[0].supplier_reference
    assert d.order.status is OrderStatus.completed
    assert ledger.count("purchase_order") == 1 and ledger.count("tracking") == 1


# -- (i) invalid requests are not retried ---------------------------------------------


def test_warehouses_refusing_the_stock_request_as_invalid_hold_the_order_without_retrying(
    make_engine, ledger
):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    for warehouse in ("east", "west"):  # every time it is asked
        fakes.fail_next(
            warehouse,
            *[FatalError("part_numbers: value too long", code="invalid_request")] * 30,
            method="offers",
        )

    engine.run_until_idle()

    d = detail(engine)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.held, "invalid_request")
    assert "value too long" in d.order.hold_message
    [source] = [c for c in d.commands if c.kind == "source"]
    assert source.attempts == 1
    assert ledger.count("charge") == 0


def test_a_part_number_no_warehouse_can_carry_is_held_before_the_card_is_charged(
    make_engine, ledger
):
    long_sku = "OIL-FLT-5W30-" + "X" * 60
    config = one_warehouse(max_part_number_length=64)
    config["suppliers"]["east"]["options"]["stock"] = {
        long_sku: {"quantity": 5, "unit_cost_cents": 900}
    }
    engine = make_engine(config)
    fakes.market("default").add(make_order("A1", [(long_sku, 1)]))

    engine.run_until_idle()

    d = detail(engine)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.held, "unsupported_part_number")
    assert long_sku in d.order.hold_message and "at most 64" in d.order.hold_message
    assert ledger.calls("charge") == 0 and ledger.count("purchase_order") == 0


def test_a_purchase_order_refused_as_invalid_names_the_money_taken_and_cancel_refunds_it(
    make_engine, ledger
):
    engine = make_engine(one_warehouse())
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next(
        "east",
        FatalError("ship_to.phone: not a phone number", code="invalid_request"),
        method="place_order",
    )

    engine.run_until_idle()

    d = detail(engine)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.held, "invalid_request")
    amount = f"{d.charges[0].amount_cents / 100:.2f}"
    assert "not a phone number" in d.order.hold_message and amount in d.order.hold_message
    [place] = [c for c in d.commands if c.kind == "place_po"]
    assert (place.status, place.attempts) == ("failed", 1)

    actions.cancel(engine.ctx, 1)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.cancelled
    assert refunded(d) == charged(d) > 0


# -- (j) repricing on acceptance --------------------------------------------------------


def _oil_cost(engine) -> int:
    return engine.runtime.suppliers["east"].stock["OIL-FLT-5W30"].unit_cost_cents


def test_a_small_repricing_on_acceptance_is_absorbed_and_recorded(make_engine, ledger):
    engine = make_engine(one_warehouse(), price_drift_tolerance_cents=100)
    quoted = _oil_cost(engine)
    engine.runtime.suppliers["east"].options.billed_unit_cost_cents["OIL-FLT-5W30"] = quoted + 40
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 2)]))

    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    [event] = [e for e in d.timeline if e.event == "po_repriced"]
    assert event.data["extra_cost_cents"] == 80
    assert ledger.count("refund") == 0


def test_a_repricing_beyond_tolerance_holds_the_order_with_the_amounts(make_engine, ledger):
    engine = make_engine(
        one_warehouse(ship_immediately=False),
        price_drift_tolerance_cents=100,
        price_drift_tolerance_percent=0,
    )
    quoted = _oil_cost(engine)
    engine.runtime.suppliers["east"].options.billed_unit_cost_cents["OIL-FLT-5W30"] = quoted + 500
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 2)]))

    engine.run_until_idle()

    d = detail(engine)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.held, "price_drift")
    assert "10.00" in d.order.hold_message  # 2 units, 5.00 more each
    assert f"{d.charges[0].amount_cents / 100:.2f}" in d.order.hold_message

    actions.cancel(engine.ctx, 1)  # the merchant will not pay the new price
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.cancelled
    assert refunded(d) == charged(d)


def test_a_cheaper_repricing_refunds_the_difference(make_engine, ledger):
    engine = make_engine(one_warehouse())
    quoted = _oil_cost(engine)
    engine.runtime.suppliers["east"].options.billed_unit_cost_cents["OIL-FLT-5W30"] = quoted - 150
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 2)]))

    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    assert [r.amount_cents for r in d.refunds if r.status == "succeeded"] == [300]


# -- (j) out of stock for some parts ----------------------------------------------------


def test_out_of_stock_naming_some_parts_re_sources_only_those_parts(make_engine, ledger):
    # a second parcel costs its own shipping: allow it without asking
    engine = make_engine(on_no_stock="resource", price_drift_tolerance_cents=5000)
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1), ("WPR-BLD-22", 1)]))
    engine.poll_due(force=True)
    engine.drain()
    chosen = ledger.effects("purchase_order")[0].target
    other = "west" if chosen == "east" else "east"
    assert len(ledger.effects("purchase_order")) == 1  # both parts from one warehouse
    fakes.fail_next(chosen, OutOfStock("sold out", skus=("WPR-BLD-22",)), method="place_order")
    fakes.market("default").add(make_order("A2", [("OIL-FLT-5W30", 1), ("WPR-BLD-22", 1)]))

    engine.run_until_idle()

    d = detail(engine, 2)
    assert d.order.status is OrderStatus.completed, (d.order.hold_reason, d.order.hold_message)
    bought = {
        (effect.target, line["sku"], line["quantity"])
        for effect in ledger.effects("purchase_order")[1:]
        for line in effect.payload["lines"]
    }
    assert bought == {(chosen, "OIL-FLT-5W30", 1), (other, "WPR-BLD-22", 1)}
    assert ledger.count("charge") == 2 and ledger.count("refund") == 0
    assert sorted(po.status for po in d.purchase_orders) == ["replaced", "shipped", "shipped"]


def test_a_cheaper_warehouse_found_after_a_refusal_refunds_the_difference(make_engine, ledger):
    config = basic_config(on_no_stock="resource")
    config["suppliers"]["west"]["options"]["stock"] = {
        "OIL-FLT-5W30": {"quantity": 50, "unit_cost_cents": 100, "weight_grams": 400}
    }
    engine = make_engine(config)
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("west", RetriableError("HTTP 503"), method="offers")  # first sourcing: east
    fakes.fail_next("east", OutOfStock("sold out", skus=("OIL-FLT-5W30",)), method="place_order")

    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    [refused, bought] = d.purchase_orders
    assert (refused.supplier, refused.status, bought.supplier) == ("east", "replaced", "west")
    paid_for = sum(
        (line["unit_cost_cents"] + line["core_charge_cents"]) * line["quantity"]
        for line in bought.lines
    )
    assert charged(d) - refunded(d) == paid_for + bought.shipping_cents + bought.tax_cents
    assert refunded(d) > 0


def test_re_sourcing_that_keeps_failing_holds_with_the_amount_and_cancel_refunds_it(
    make_engine, ledger
):
    engine = make_engine(on_no_stock="resource")
    engine.ctx.scheduler = engine.ctx.scheduler.model_copy(
        update={"max_attempts": 2, "backoff_base_seconds": 0.001}
    )
    fakes.market("default").add(make_order("A0", [("OIL-FLT-5W30", 1)]))
    engine.run_until_idle()
    chosen = ledger.effects("purchase_order")[0].target
    other = "west" if chosen == "east" else "east"
    fakes.fail_next(chosen, OutOfStock("sold out"), method="place_order")
    fakes.fail_next(other, *[RetriableError("HTTP 503")] * 10, method="offers")
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))

    for _ in range(5):
        engine.run_until_idle()

    d = detail(engine, 2)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.held, "upstream_unavailable")
    assert f"{d.charges[0].amount_cents / 100:.2f}" in d.order.hold_message

    fakes.clear_failures()
    actions.cancel(engine.ctx, 2)
    engine.run_until_idle()

    d = detail(engine, 2)
    assert d.order.status is OrderStatus.cancelled
    assert refunded(d) == charged(d) > 0


def test_out_of_stock_for_some_parts_under_the_hold_policy_sends_the_rest_and_holds_the_rest(
    make_engine, ledger
):
    engine = make_engine(on_no_stock="hold", price_drift_tolerance_cents=5000)
    fakes.market("default").add(make_order("A0", [("OIL-FLT-5W30", 1), ("WPR-BLD-22", 1)]))
    engine.run_until_idle()
    chosen = ledger.effects("purchase_order")[0].target
    fakes.fail_next(chosen, OutOfStock("sold out", skus=("WPR-BLD-22",)), method="place_order")
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1), ("WPR-BLD-22", 1)]))

    engine.run_until_idle()

    d = detail(engine, 2)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.held, "no_stock")
    refused = next(po for po in d.purchase_orders if po.status == "failed")
    assert [line["sku"] for line in refused.lines] == ["WPR-BLD-22"]
    short_cost = refused.lines[0]["unit_cost_cents"] + refused.tax_cents
    assert f"{short_cost / 100:.2f} USD charged for {refused.po_number}" in d.order.hold_message
    assert [line.shipped_quantity for line in d.order.lines] == [1, 0]  # the rest went out

    actions.approve_order(engine.ctx, 2)
    engine.run_until_idle()

    d = detail(engine, 2)
    assert d.order.status is OrderStatus.completed
    assert [line.shipped_quantity for line in d.order.lines] == [1, 1]
    assert ledger.count("charge") == 2 and ledger.count("refund") == 0
