"""A buyer lowers a quantity or removes a line on the channel after parts were bought.

* the warehouse is asked to stop only the units no longer wanted (``keep``), and what it
  stops is refunded: goods, cores and their share of the tax, never the shipping;
* a removed line is stopped whole; another line of the same part is left alone;
* units that already shipped cannot be stopped: nothing is refunded and the order ends;
* a purchase order still on its way is asked once it is accepted;
* an order held for the merchant, or with a refused purchase order waiting to be bought
  elsewhere, only records the change: asking back then would change money under a hold
  or buy units no longer wanted;
* a raised quantity cannot be applied to parts already bought and is only recorded;
* a warehouse plugin that cannot stop part of a PO says so and the order goes on.
"""

from __future__ import annotations

from typing import Any

from fbs_core.db import repository as repo
from fbs_core.domain import CancelResult, OrderStatus
from fbs_core.errors import RetriableError
from fbs_core.pipeline import transitions as t
from fbs_core.testing import fakes
from fbs_core.testing.fakes import FakeSupplier, make_order
from fbs_core.testing.harness import basic_config

PAD = "BRK-PAD-F150"
FILTER = "OIL-FLT-5W30"


def detail(engine, order_id: int = 1):
    with engine.db.transaction() as session:
        return repo.order_detail(session, engine.ctx.merchant_id, order_id)


def one_warehouse(**options: Any) -> dict:
    config = basic_config()
    del config["suppliers"]["west"]
    config["suppliers"]["east"]["options"].update(options)
    return config


def bought(make_engine, lines, **options):
    """An order of ``lines`` charged and accepted by the east warehouse, not shipped yet."""
    engine = make_engine(one_warehouse(ship_immediately=False, **options))
    fakes.market("default").add(make_order("A1", lines))
    engine.run_until_idle()
    assert detail(engine).order.status is OrderStatus.ordered
    return engine


def lowered(engine, lines, minute: int = 5) -> None:
    fakes.market("default").add(make_order("A1", lines, minute=minute))
    engine.run_until_idle()


def per_unit_refund(po, sku: str, units: int) -> int:
    """Goods and cores of ``units`` of ``sku`` on ``po`` with their share of its tax."""
    line = next(x for x in po.lines if x["sku"] == sku)
    goods = (line["unit_cost_cents"] + line["core_charge_cents"]) * units
    all_goods = sum(
        (x["unit_cost_cents"] + x["core_charge_cents"]) * x["quantity"] for x in po.lines
    )
    return goods + po.tax_cents * goods // all_goods


def test_a_lowered_quantity_stops_only_the_units_no_longer_wanted_and_refunds_them(
    make_engine, ledger
):
    engine = bought(make_engine, [(PAD, 3)])
    [po] = detail(engine).purchase_orders

    lowered(engine, [(PAD, 1)])

    [cancel] = ledger.effects("po_cancel")
    assert cancel.payload == {"keep": {PAD: 1}}
    assert cancel.result == {"lines": [{"sku": PAD, "quantity": 2}]}
    d = detail(engine)
    [refund] = d.refunds
    assert (refund.status, refund.amount_cents) == ("succeeded", per_unit_refund(po, PAD, 2))
    [line] = d.order.lines
    assert (line.quantity, line.cancelled_quantity, line.upstream_quantity) == (3, 2, 1)
    assert "lowered_upstream" in [e.event for e in d.timeline]

    fakes.ship(ledger, "east", po.po_number)
    engine.run_until_idle()
    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    [shipment] = ledger.effects("shipment")
    assert shipment.payload["lines"] == [{"sku": PAD, "quantity": 1}]
    assert ledger.count("refund") == 1


def test_a_removed_line_is_stopped_whole_and_the_other_part_ships(make_engine, ledger):
    engine = bought(make_engine, [(PAD, 1), ("WPR-BLD-22", 2)])
    [po] = detail(engine).purchase_orders

    fakes.market("default").add(
        make_order("A1", [(PAD, 1), ("WPR-BLD-22", 2)], minute=5).model_copy(
            update={"lines": make_order("A1", [(PAD, 1)]).lines}
        )
    )
    engine.run_until_idle()

    [cancel] = ledger.effects("po_cancel")
    assert cancel.payload == {"keep": {"WPR-BLD-22": 0}}
    assert detail(engine).refunds[0].amount_cents == per_unit_refund(po, "WPR-BLD-22", 2)
    fakes.ship(ledger, "east", po.po_number)
    engine.run_until_idle()
    assert detail(engine).order.status is OrderStatus.completed
    assert ledger.effects("shipment")[0].payload["lines"] == [{"sku": PAD, "quantity": 1}]


def test_the_same_part_on_another_line_is_left_alone(make_engine, ledger):
    engine = bought(make_engine, [(FILTER, 2), (FILTER, 3)])
    [po] = detail(engine).purchase_orders

    lowered(engine, [(FILTER, 2), (FILTER, 1)])

    [cancel] = ledger.effects("po_cancel")
    assert cancel.payload == {"keep": {FILTER: 3}}
    lines = {line.line_id: line for line in detail(engine).order.lines}
    assert (lines["A1-1"].cancelled_quantity, lines["A1-2"].cancelled_quantity) == (0, 2)
    assert detail(engine).refunds[0].amount_cents == per_unit_refund(po, FILTER, 2)


def test_units_that_already_shipped_are_said_on_the_timeline_and_not_refunded(make_engine, ledger):
    engine = bought(make_engine, [(PAD, 2)])
    [po] = detail(engine).purchase_orders
    fakes.ship(ledger, "east", po.po_number)
    engine.poll_due(force=True)  # fbs records the parcel; its tracking is not pushed yet
    assert detail(engine).order.status is OrderStatus.shipped

    lowered(engine, [(PAD, 1)])

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    assert d.refunds == [] and ledger.count("refund") == 0
    [too_late] = [e for e in d.timeline if e.event == "lowered_after_shipping"]
    assert too_late.message == (f"Already shipped, so not asked back or refunded: 1 × {PAD}.")


def test_units_shipped_before_fbs_heard_of_the_parcel_are_refused_and_not_refunded(
    make_engine, ledger
):
    """The warehouse shipped, fbs asked it back before reading the shipment: it stops none."""
    engine = bought(make_engine, [(PAD, 2)])
    [po] = detail(engine).purchase_orders
    fakes.ship(ledger, "east", po.po_number)
    fakes.market("default").add(make_order("A1", [(PAD, 1)], minute=5))
    engine.poll_due(force=True)  # the channel's change and the parcel, in either order
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    assert d.refunds == [] and ledger.count("refund") == 0 and ledger.count("po_cancel") == 0
    events = {e.event for e in d.timeline}
    assert events & {"lowered_after_shipping", "po_cancel_refused"}


def test_a_purchase_order_on_its_way_is_asked_once_it_is_accepted(make_engine, ledger):
    engine = make_engine(one_warehouse(ship_immediately=False))
    fakes.fail_next("east", RetriableError("warehouse busy"), method="place_order")
    fakes.market("default").add(make_order("A1", [(PAD, 3)]))
    engine.poll_due(force=True)
    engine.drain()  # charged; the purchase order's first attempt failed
    assert ledger.count("charge") == 1 and ledger.count("purchase_order") == 0

    lowered(engine, [(PAD, 2)])

    assert ledger.count("purchase_order") == 1
    assert ledger.effects("po_cancel")[0].payload == {"keep": {PAD: 2}}
    d = detail(engine)
    assert d.order.lines[0].cancelled_quantity == 1
    assert len(d.refunds) == 1


def test_a_lowered_quantity_on_a_held_order_is_recorded_not_asked_back(make_engine, ledger):
    engine = bought(make_engine, [(PAD, 3)])
    with engine.db.transaction() as session:
        row = repo.get_order(session, engine.ctx.merchant_id, 1, lock=True)
        t.hold(engine.ctx, session, row, "manual_review", "Held to look at it.")

    lowered(engine, [(PAD, 1)])

    d = detail(engine)
    assert ledger.count("po_cancel") == 0 and d.refunds == []
    assert "modified_upstream" in [e.event for e in d.timeline]


def test_a_raised_quantity_after_purchase_is_recorded_not_applied(make_engine, ledger):
    engine = bought(make_engine, [(PAD, 1)])

    lowered(engine, [(PAD, 4)])

    d = detail(engine)
    assert ledger.count("po_cancel") == 0
    assert d.order.lines[0].quantity == 1
    assert "modified_upstream" in [e.event for e in d.timeline]


class WholeOrdersOnly(FakeSupplier):
    """A warehouse plugin written before ``keep``: it can only stop a whole order."""

    def cancel_order(self, po_number: str) -> CancelResult:  # type: ignore[override]
        return super().cancel_order(po_number)


def test_a_warehouse_that_cannot_stop_part_of_an_order_says_so_and_the_order_goes_on(
    make_engine, ledger, monkeypatch
):
    engine = bought(make_engine, [(PAD, 3)])
    monkeypatch.setattr(
        engine.runtime.suppliers["east"], "__class__", WholeOrdersOnly, raising=True
    )

    lowered(engine, [(PAD, 1)])

    d = detail(engine)
    assert ledger.count("po_cancel") == 0 and d.refunds == []
    [refused] = [e for e in d.timeline if e.event == "po_cancel_refused"]
    assert "cannot stop part of a purchase order" in refused.message
    fakes.ship(ledger, "east", d.purchase_orders[0].po_number)
    engine.run_until_idle()
    assert detail(engine).order.status is OrderStatus.completed
