"""The happy path and idempotent intake: each effect happens once, whatever repeats."""

from __future__ import annotations

from fbs_core.adapters import OrderSource
from fbs_core.db import repository as repo
from fbs_core.domain import OrderStatus
from fbs_core.testing import fakes


def statuses(engine) -> dict[str, int]:
    with engine.db.transaction() as session:
        return repo.count_by_status(session, engine.ctx.merchant_id)


def detail(engine, order_id: int = 1):
    with engine.db.transaction() as session:
        return repo.order_detail(session, engine.ctx.merchant_id, order_id)


def test_an_order_goes_from_channel_to_completed_with_each_effect_once(make_engine, ledger):
    engine = make_engine()
    fakes.market("default").add(fakes.generated_order(0, seed=1))

    engine.run_until_idle()

    assert statuses(engine) == {"completed": 1}
    order = detail(engine)
    assert [e.event for e in order.timeline][:6] == [
        "imported",
        "approved",
        "sourced",
        "charged",
        "po_placed",
        "ordered",
    ]
    assert order.timeline[-1].event == "completed"
    assert ledger.count("charge") == 1
    assert ledger.count("purchase_order") == 1
    assert ledger.count("tracking") == 1
    assert ledger.count("acknowledge") == 1
    charge = order.charges[0]
    plan = order.plans[0]
    assert charge.amount_cents == plan.total_cents
    assert charge.amount_cents == (
        charge.parts_cents + charge.core_charges_cents + charge.shipping_cents + charge.tax_cents
    )
    assert plan.explanation


def test_repolls_and_duplicate_deliveries_change_nothing(make_engine, ledger):
    engine = make_engine()
    order = fakes.generated_order(0, seed=1)
    fakes.market("default").add(order)
    engine.run_until_idle()

    fakes.market("default").add(order)  # the channel sends the same order again
    engine.run_until_idle()
    engine.run_until_idle()

    assert statuses(engine) == {"completed": 1}
    assert ledger.calls("charge") == 1
    assert ledger.calls("purchase_order") == 1
    assert ledger.calls("tracking") == 1


def test_remanufactured_part_keeps_its_core_charge_apart(make_engine):
    engine = make_engine()
    fakes.market("default").add(fakes.make_order("A1", [("ALT-REMAN-CIV", 2)]))

    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    core = fakes.CATALOG["ALT-REMAN-CIV"][2]
    assert d.plans[0].core_charges_cents == 2 * core
    assert d.charges[0].core_charges_cents == 2 * core
    assert d.purchase_orders[0].lines[0]["core_charge_cents"] == core


def test_orders_are_spread_to_the_warehouse_with_the_best_landed_cost(make_engine, ledger):
    engine = make_engine()
    for i in range(30):
        fakes.market("default").add(fakes.generated_order(i, seed=5))

    engine.run_until_idle()

    assert statuses(engine) == {"completed": 30}
    by_warehouse = {}
    for effect in ledger.effects("purchase_order"):
        by_warehouse[effect.target] = by_warehouse.get(effect.target, 0) + 1
    assert set(by_warehouse) == {"east", "west"}
    assert ledger.count("charge") == 30


def test_a_channel_order_changed_before_purchase_is_reconciled_onto_the_same_order(make_engine):
    engine = make_engine(mode="manual")
    fakes.market("default").add(fakes.make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.run_until_idle()
    assert detail(engine).order.status is OrderStatus.held

    fakes.market("default").add(fakes.make_order("A1", [("OIL-FLT-5W30", 3)], minute=5))
    engine.run_until_idle()

    d = detail(engine)
    assert statuses(engine) == {"held": 1}
    assert d.order.lines[0].quantity == 3
    assert "modified_upstream" in [e.event for e in d.timeline]


def test_an_order_cancelled_on_the_channel_before_purchase_is_cancelled(make_engine, ledger):
    engine = make_engine(mode="manual")
    fakes.market("default").add(fakes.make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.run_until_idle()

    fakes.market("default").add(
        fakes.make_order("A1", [("OIL-FLT-5W30", 1)], minute=5, cancelled=True)
    )
    engine.run_until_idle()

    assert statuses(engine) == {"cancelled": 1}
    assert ledger.count("charge") == 0


class SilentChannel(fakes.FakeChannel):
    """A channel with nothing to say on an order it hands over (no acknowledgement)."""

    acknowledge_order = OrderSource.acknowledge_order


def test_a_channel_without_acknowledgement_gets_no_acknowledge_step(make_engine, ledger):
    engine = make_engine()
    shop = engine.runtime.channels["shop"]
    engine.runtime.channels["shop"] = SilentChannel("shop", shop.options)
    fakes.market("default").add(fakes.generated_order(0, seed=1))

    engine.run_until_idle()

    order = detail(engine)
    assert order.order.status is OrderStatus.completed
    assert "acknowledge" not in [c.kind for c in order.commands]
    assert ledger.count("acknowledge") == 0
    assert ledger.count("tracking") == 1
