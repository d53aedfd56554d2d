"""Money invariants, checked as properties over random event sequences.

Each example publishes one order, queues random failures for the payment gateway and the
warehouses (declines, lost answers, transient errors, refusals for stock or as invalid),
interleaves random merchant actions (cancel, approve, retry), the buyer lowering the order
on the channel and warehouse shipments with
the pipeline's own steps, settles the order, and then checks what the fakes' effect ledger
recorded against what fbs's database says:

* every effect is traceable to a row of the order (charge, refund, purchase order);
* a purchase order lists each part number once;
* no refund is paid twice and refunds never exceed their charge;
* every cent kept is covered by purchase orders that were not cancelled, and an order that
  ends cancelled or rejected with nothing shipped keeps no money at all;
* an order never rests with money taken unless its hold message says how much.

The run is reproducible: the seed is printed, and ``FBS_PROPERTY_SEED`` replays it;
``FBS_PROPERTY_EXAMPLES`` sets how many sequences each policy runs (CI: the default).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from fbs_core.db import repository as repo
from fbs_core.domain import OrderStatus
from fbs_core.engine import Engine
from fbs_core.errors import FatalError, OutOfStock, PaymentDeclined, RetriableError, UserError
from fbs_core.pipeline import actions
from fbs_core.testing import fakes
from fbs_core.testing.fakes import AfterEffect, make_order
from fbs_core.testing.harness import basic_config
from fbs_core.testing.ledger import EffectLedger

SEED = int(os.environ.get("FBS_PROPERTY_SEED") or random.SystemRandom().randrange(2**32))
EXAMPLES_PER_POLICY = int(os.environ.get("FBS_PROPERTY_EXAMPLES") or 170)
PARTS = ("OIL-FLT-5W30", "ALT-REMAN-CIV", "BRK-PAD-F150", "STR-REMAN-SIL")
WAREHOUSES = ("east", "west")

CHARGE_FAULTS = ("none", "decline", "lost_answer", "transient", "transient_then_lost")
PO_FAULTS = ("none", "out_of_stock_all", "out_of_stock_one", "lost_answer", "transient", "invalid")
ACTIONS = ("nothing", "cancel", "approve", "retry", "ship", "lower")
RESOLUTIONS = ("approve", "retry", "cancel")


@dataclass(frozen=True)
class Scenario:
    """One random history of one order."""

    lines: tuple[tuple[str, int], ...]
    charge_fault: str
    po_fault: str
    po_fault_at: str
    steps: tuple[str, ...]
    resolution: str


scenarios = st.builds(
    Scenario,
    lines=st.lists(
        st.tuples(st.sampled_from(PARTS), st.integers(min_value=1, max_value=3)),
        min_size=1,
        max_size=3,
    ).map(tuple),
    charge_fault=st.sampled_from(CHARGE_FAULTS),
    po_fault=st.sampled_from(PO_FAULTS),
    po_fault_at=st.sampled_from(WAREHOUSES),
    steps=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=5).map(tuple),
    resolution=st.sampled_from(RESOLUTIONS),
)


def _queue_faults(scenario: Scenario) -> None:
    """Make the gateway and one warehouse fail as the scenario says, once each."""
    lost = RetriableError("the connection dropped before the answer arrived")
    charge_errors: dict[str, tuple[Exception, ...]] = {
        "none": (),
        "decline": (PaymentDeclined("The card was declined.", code="card_declined"),),
        "lost_answer": (AfterEffect(lost),),
        "transient": (RetriableError("gateway unavailable"),),
        "transient_then_lost": (RetriableError("gateway unavailable"), AfterEffect(lost)),
    }
    if charge_errors[scenario.charge_fault]:
        fakes.fail_next("card", *charge_errors[scenario.charge_fault], method="charge")
    skus = tuple(sorted({sku for sku, _ in scenario.lines}))
    po_errors: dict[str, tuple[Exception, ...]] = {
        "none": (),
        "out_of_stock_all": (OutOfStock("sold out", skus=skus),),
        "out_of_stock_one": (OutOfStock(f"sold out of {skus[0]}", skus=skus[:1]),),
        "lost_answer": (AfterEffect(lost),),
        "transient": (RetriableError("warehouse unavailable"),),
        "invalid": (FatalError("the request is invalid", code="invalid_request"),),
    }
    if po_errors[scenario.po_fault]:
        fakes.fail_next(scenario.po_fault_at, *po_errors[scenario.po_fault], method="place_order")


def _ship_placed(engine: Engine, ledger: EffectLedger, order_id: int) -> None:
    """Let every warehouse ship what it holds for this order."""
    with engine.db.transaction() as session:
        placed = [(po.supplier, po.po_number) for po in repo.purchase_orders_for(session, order_id)]
    for supplier, po_number in placed:
        fakes.ship(ledger, supplier, po_number)


def _lower_on_the_channel(
    engine: Engine, external_id: str, lines: tuple[tuple[str, int], ...], minute: int
) -> tuple[tuple[str, int], ...]:
    """The buyer takes one unit fewer of the last line (or drops it) on the channel."""
    *kept, (sku, quantity) = lines
    lowered = (*kept, (sku, quantity - 1)) if quantity > 1 else tuple(kept)
    if not lowered:
        return lines
    fakes.market("default").add(make_order(external_id, lowered, minute=minute))
    engine.poll_due(force=True)
    return lowered


def _merchant(action: str, engine: Engine, order_id: int) -> None:
    """What a merchant might click; refusals (order not held, already final) are fine."""
    do: dict[str, Callable[[Any, int], str]] = {
        "cancel": actions.cancel,
        "approve": actions.approve_order,
        "retry": actions.retry_order,
    }
    with contextlib.suppress(UserError):
        do[action](engine.ctx, order_id)


def _settle(engine: Engine) -> None:
    """Run until no command is left, waiting out the (short) backoffs of retried ones."""
    for _ in range(200):
        engine.run_until_idle()
        with engine.db.transaction() as session:
            if repo.count_open_commands(session, engine.ctx.merchant_id) == 0:
                return
        time.sleep(0.02)
    raise AssertionError("commands were still open after 200 passes: a dead loop")


def _order_id(engine: Engine, external_id: str) -> int:
    """fbs's id of the order the store knows as ``external_id``."""
    with engine.db.transaction() as session:
        newest = repo.list_orders(session, engine.ctx.merchant_id, limit=5)
    return next(order.id for order in newest if order.external_id == external_id)


def _status(engine: Engine, order_id: int) -> OrderStatus:
    with engine.db.transaction() as session:
        detail = repo.order_detail(session, engine.ctx.merchant_id, order_id)
    assert detail is not None
    return detail.order.status


def check_invariants(engine: Engine, ledger: EffectLedger, order_id: int) -> None:
    """The money invariants for one order, from the database and the effect ledger."""
    with engine.db.transaction() as session:
        detail = repo.order_detail(session, engine.ctx.merchant_id, order_id)
    assert detail is not None
    order = detail.order
    story = "\n".join(f"  {e.event}: {e.message}" for e in detail.timeline)

    charged = {c.idempotency_key: c for c in detail.charges}
    refunds = {r.idempotency_key: r for r in detail.refunds}
    pos = {po.po_number: po for po in detail.purchase_orders}

    charge_effects = [e for e in ledger.effects("charge") if e.key in charged]
    refund_effects = [e for e in ledger.effects("refund") if e.key in refunds]
    po_effects = [e for e in ledger.effects("purchase_order") if e.key in pos]

    # a purchase order names each part once
    for effect in po_effects:
        skus = [line["sku"] for line in effect.payload["lines"]]
        assert len(skus) == len(set(skus)), f"PO {effect.key} lists a part twice: {skus}\n{story}"

    # every charge the gateway took is one of the order's charges, with the amount recorded
    for effect in charge_effects:
        row = charged[effect.key]
        assert row.status == "succeeded", f"charge {effect.key} was taken, fbs says {row.status}"
        assert row.amount_cents == effect.payload["amount_cents"]

    taken = sum(e.payload["amount_cents"] for e in charge_effects)
    returned = sum(e.payload["amount_cents"] for e in refund_effects)
    for effect in refund_effects:
        assert effect.calls >= 1
    assert returned <= taken, f"refunded {returned} of {taken} charged\n{story}"
    kept = taken - returned

    shipped_pos = [
        po for po in detail.purchase_orders if po.status in ("shipped", "partially_shipped")
    ]
    status = order.status
    if status in (OrderStatus.cancelled, OrderStatus.rejected) and not shipped_pos:
        assert kept == 0, f"{status} order keeps {kept} cents with nothing shipped\n{story}"
    if status is OrderStatus.completed:
        assert kept > 0, f"completed order keeps no money\n{story}"
        assert shipped_pos, f"completed order with nothing shipped\n{story}"
    if status is OrderStatus.held and kept > 0:
        amount = f"{kept / 100:.2f}"
        assert amount in (order.hold_message or ""), (
            f"held ({order.hold_reason}) with {amount} taken, and the hold does not say so: "
            f"{order.hold_message!r}\n{story}"
        )
    if kept > 0 and status is not OrderStatus.held:
        covered = sum(
            sum(
                (line["unit_cost_cents"] + line["core_charge_cents"])
                * (line["quantity"] - line["cancelled_quantity"])
                for line in po.lines
            )
            + po.shipping_cents
            + po.tax_cents
            for po in detail.purchase_orders
            if po.status not in ("cancelled", "replaced", "failed")
        )
        assert kept <= covered, (
            f"{status} order keeps {kept} cents; its live purchase orders cover {covered}\n{story}"
        )


@pytest.fixture(scope="module")
def property_seed() -> int:
    print(
        f"\nmoney invariants: FBS_PROPERTY_SEED={SEED}, {EXAMPLES_PER_POLICY} sequences per policy"
    )
    return SEED


@pytest.fixture
def engine_for(make_engine: Callable[..., Engine]) -> Iterator[Callable[[str], Engine]]:
    def build(policy: str) -> Engine:
        config = basic_config(on_no_stock=policy)
        config["scheduler"]["max_attempts"] = 3
        for supplier in config["suppliers"].values():
            supplier["options"]["ship_immediately"] = False
        return make_engine(config)

    yield build


@pytest.mark.parametrize("policy", ["resource", "hold", "cancel"])
def test_money_invariants_hold_after_any_sequence_of_events(
    policy: str, engine_for: Callable[[str], Engine], ledger: EffectLedger, property_seed: int
) -> None:
    engine = engine_for(policy)
    numbers = itertools.count(1)

    @seed(property_seed)
    @settings(
        max_examples=EXAMPLES_PER_POLICY,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(scenario=scenarios)
    def one_history(scenario: Scenario) -> None:
        fakes.clear_failures()
        external_id = f"P{policy[0]}{next(numbers)}"
        fakes.market("default").add(make_order(external_id, scenario.lines))
        _queue_faults(scenario)
        engine.poll_due(force=True)
        order_id = _order_id(engine, external_id)

        lines = scenario.lines
        for minute, step in enumerate(scenario.steps, start=1):
            if step == "ship":
                _ship_placed(engine, ledger, order_id)
            elif step == "lower":
                lines = _lower_on_the_channel(engine, external_id, lines, minute)
            elif step != "nothing":
                _merchant(step, engine, order_id)
            engine.drain()

        _settle(engine)
        fakes.clear_failures()
        check_invariants(engine, ledger, order_id)

        if _status(engine, order_id) is OrderStatus.held:
            _merchant(scenario.resolution, engine, order_id)
            _settle(engine)
            check_invariants(engine, ledger, order_id)
        if not _status(engine, order_id).is_final:
            _ship_placed(engine, ledger, order_id)
            _settle(engine)
        if not _status(engine, order_id).is_final:
            _merchant("cancel", engine, order_id)
            _settle(engine)
            _ship_placed(engine, ledger, order_id)
            _settle(engine)
        check_invariants(engine, ledger, order_id)
        assert _status(engine, order_id).is_final, "the order never reached a final state"

    one_history()
