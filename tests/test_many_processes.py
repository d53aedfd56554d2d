"""Many fbs processes on one database: one bad order, concurrent start-up, shared merchants.

Several of these only show on PostgreSQL (SQLite forgives long strings and serialises
every writer); run them with ``FBS_TEST_DATABASE_URL`` pointing at a PostgreSQL database.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from fbs_core.db import Database
from fbs_core.db import repository as repo
from fbs_core.db.migrate import current_revision, head_revision, upgrade
from fbs_core.db.models import InstanceHeartbeatRow, OutboxCommandRow
from fbs_core.domain import OrderBatch, OrderStatus
from fbs_core.pipeline.actions import approve_order
from fbs_core.pipeline.cancellation import cancel_order
from fbs_core.pipeline.intake import IntakeResult, ingest
from fbs_core.pipeline.worker import claim, perform, record
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order
from fbs_core.testing.harness import basic_config

postgres_only = pytest.mark.skipif(
    not os.environ.get("FBS_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (set FBS_TEST_DATABASE_URL): SQLite forgives it",
)


def orders_by_external_id(engine) -> dict:
    with engine.db.transaction() as session:
        return {o.external_id: o for o in repo.list_orders(session, engine.ctx.merchant_id)}


def channel_state(engine, name: str = "shop"):
    with engine.db.transaction() as session:
        return repo.instance_state(session, engine.ctx.merchant_id, "channel", name)


# -- (c) one order's data never stalls a channel --------------------------------------


def test_a_sku_as_long_as_shopify_allows_is_imported_with_the_orders_beside_it(make_engine):
    engine = make_engine()
    long_sku = "BRK-" + "X" * 116  # 120 characters; Shopify allows 255
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.market("default").add(make_order("A2", [(long_sku, 1)]))
    fakes.market("default").add(make_order("A3", [("WPR-BLD-22", 1)]))

    engine.poll_due(force=True)

    orders = orders_by_external_id(engine)
    assert set(orders) == {"A1", "A2", "A3"}
    assert orders["A2"].lines[0].sku == long_sku
    state = channel_state(engine)
    assert state.lease_owner is None and state.last_error is None


def test_an_order_longer_than_any_channel_allows_is_rejected_and_the_rest_land(make_engine):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.market("default").add(make_order("A2", [("S" * 300, 1)]))
    fakes.market("default").add(make_order("A3", [("WPR-BLD-22", 1)]))

    engine.poll_due(force=True)

    orders = orders_by_external_id(engine)
    assert set(orders) == {"A1", "A2", "A3"}
    assert orders["A2"].status is OrderStatus.rejected
    assert orders["A2"].hold_reason == "unstorable_order"
    assert "300 characters" in (orders["A2"].hold_message or "")
    assert orders["A1"].status is not OrderStatus.rejected
    assert orders["A3"].status is not OrderStatus.rejected


@postgres_only
def test_an_order_the_database_refuses_is_rejected_and_the_rest_land(make_engine):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    # PostgreSQL text cannot hold a NUL character; SQLite stores it
    fakes.market("default").add(make_order("A2", [("OIL-FLT-5W30", 1)], number="#A2\x00"))
    fakes.market("default").add(make_order("A3", [("WPR-BLD-22", 1)]))

    engine.poll_due(force=True)

    orders = orders_by_external_id(engine)
    assert set(orders) == {"A1", "A2", "A3"}
    assert orders["A2"].status is OrderStatus.rejected
    assert orders["A2"].hold_reason == "unstorable_order"
    state = channel_state(engine)
    assert state.lease_owner is None and state.last_error is None
    assert state.cursor == "3"


def test_a_poll_whose_intake_fails_records_the_error_and_releases_its_lease(
    make_engine, monkeypatch
):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))

    def broken_ingest(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("fbs_core.pipeline.polling.ingest", broken_ingest)
    assert engine.poll_due(force=True) == 0  # nothing escapes

    state = channel_state(engine)
    assert state.lease_owner is None and state.lease_until is None
    assert "the database went away" in (state.last_error or "")
    assert state.consecutive_failures == 1
    assert state.cursor is None  # the batch is polled again

    monkeypatch.undo()
    engine.poll_due(force=True)
    assert set(orders_by_external_id(engine)) == {"A1"}
    assert channel_state(engine).last_error is None


# -- (d) migrations under a lock ---------------------------------------------------------


def test_three_processes_migrating_an_empty_database_at_once_all_succeed(fbs_database_url):
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def migrate() -> None:
        db = Database(fbs_database_url)
        try:
            barrier.wait()
            upgrade(db)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    db = Database(fbs_database_url)
    try:
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()


# -- (e) intake locks the order it reconciles ------------------------------------------


def _wait_until_blocked(db: Database, timeout: float = 20.0) -> None:
    """Wait until some other session of this database waits on a row lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.engine.connect() as connection:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        if waiting:
            return
        time.sleep(0.05)
    pytest.fail("intake never waited for the order's lock")


@postgres_only
def test_intake_waits_for_a_cancellation_being_recorded_and_does_not_undo_it(make_engine):
    engine = make_engine(mode="manual")
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.poll_due(force=True)
    order_id = orders_by_external_id(engine)["A1"].id
    # the buyer changes the order on the channel while the merchant cancels it in fbs
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 2)], minute=5))

    with engine.db.transaction() as session:
        row = repo.get_order(session, "default", order_id, lock=True)
        cancel_order(engine.ctx, session, row, actor="merchant", reason="Cancelled by you.")
        session.flush()
        poller = threading.Thread(target=engine.poll_due, kwargs={"force": True})
        poller.start()
        _wait_until_blocked(engine.db)
    poller.join()

    order = orders_by_external_id(engine)["A1"]
    assert order.status is OrderStatus.cancelled
    assert order.lines[0].quantity == 1  # the change to a cancelled order was not applied


@postgres_only
def test_two_processes_importing_one_new_order_at_once_store_it_once(make_engine, caplog):
    """The second insert waits on the unique index, fails, and reads the stored order."""
    engine = make_engine()
    engine.prepare()
    batch = OrderBatch(orders=(make_order("A1", [("OIL-FLT-5W30", 1)]),))
    outcomes: list[IntakeResult] = []

    def other_process() -> None:
        with engine.db.transaction() as session:
            outcomes.append(ingest(engine.ctx, session, "shop", batch))

    with engine.db.transaction() as session:
        first = ingest(engine.ctx, session, "shop", batch)
        session.flush()
        importer = threading.Thread(target=other_process)
        importer.start()
        _wait_until_blocked(engine.db)
    importer.join()

    assert first.outcomes == {"new": 1}
    [second] = outcomes
    assert second.outcomes == {"unchanged": 1} and second.problems == []
    [order] = orders_by_external_id(engine).values()
    assert order.hold_reason != "unstorable_order"
    with engine.db.transaction() as session:
        events = [e.event for e in repo.order_detail(session, "default", order.id).timeline]
    assert events.count("imported") == 1 and "unreadable_update" not in events


# -- (f) processes sharing a merchant take only their own instances' work ---------------


def _second_shop_config(**fulfillment) -> dict:
    """Another store of the same merchant, with a warehouse of its own."""
    config = basic_config(market="other", **fulfillment)
    config["channels"] = {
        "other-shop": {"type": "fake-channel", "options": {"ledger": "default", "market": "other"}}
    }
    config["suppliers"] = {
        "north": {
            "type": "fake-supplier",
            "options": {"ledger": "default", "ship_from_zip": "55401", "generated_stock_seed": 3},
        }
    }
    return config


def test_a_process_never_takes_commands_for_a_channel_it_does_not_have(make_engine, ledger):
    first = make_engine(mode="manual")
    second = make_engine(_second_shop_config())
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    first.poll_due(force=True)
    order_id = orders_by_external_id(first)["A1"].id
    approve_order(first.ctx, order_id)

    second.run_until_idle()  # shares the merchant, but has only "other-shop"
    order = orders_by_external_id(first)["A1"]
    assert order.hold_reason != "instance_not_configured"
    assert ledger.count("acknowledge") == 0
    with first.db.transaction() as session:
        open_kinds = {
            c.kind
            for c in repo.commands_for(session, order_id)
            if c.status in ("pending", "running")
        }
    assert {"acknowledge", "source"} <= open_kinds  # waiting for a process that has "shop"

    first.run_until_idle()
    assert orders_by_external_id(first)["A1"].status is OrderStatus.completed
    assert ledger.count("acknowledge") == 1
    assert ledger.count("tracking") == 1


def test_a_command_for_an_instance_no_process_has_any_more_is_held_not_left_waiting(
    make_engine, ledger
):
    first = make_engine(mode="manual")
    second = make_engine(_second_shop_config())
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    first.poll_due(force=True)
    order_id = orders_by_external_id(first)["A1"].id
    approve_order(first.ctx, order_id)
    # the process with "shop" stopped, and no process has had it for over a lease period
    with first.db.transaction() as session:
        session.execute(
            update(InstanceHeartbeatRow)
            .where(InstanceHeartbeatRow.name == "shop")
            .values(seen_at=first.ctx.now() - timedelta(hours=1))
        )

    second.run_until_idle()

    order = orders_by_external_id(first)["A1"]
    assert (order.status, order.hold_reason) == (OrderStatus.held, "instance_not_configured")
    assert ledger.count("acknowledge") == 0


def test_polls_are_claimed_only_for_configured_instances(make_engine):
    first = make_engine()
    second = make_engine(_second_shop_config())
    first.prepare()
    second.prepare()
    lease = timedelta(seconds=60)
    with second.db.transaction() as session:
        claimed = repo.claim_due_instances(
            session, "default", "second", second.ctx.now(), lease, second.instances(), limit=10
        )
    assert {(c.kind, c.name) for c in claimed} <= set(second.instances())
    assert ("channel", "shop") not in {(c.kind, c.name) for c in claimed}


def test_a_shipment_recorded_by_a_process_without_the_channel_is_still_pushed(make_engine, ledger):
    first = make_engine()
    config = basic_config(market="other")  # the same warehouses, another store
    config["channels"] = {
        "other-shop": {"type": "fake-channel", "options": {"ledger": "default", "market": "other"}}
    }
    second = make_engine(config)
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    first.poll_due(force=True)
    first.drain()  # sourced, charged, ordered; the warehouse ships at once

    second.poll_due(force=True)  # second polls the shared warehouses and records the parcel
    first.run_until_idle()

    order = orders_by_external_id(first)["A1"]
    assert order.status is OrderStatus.completed
    assert ledger.count("tracking") == 1


# -- claims carry their own token; leases of work in progress are renewed ---------------


def _expire_leases(engine) -> None:
    with engine.db.transaction() as session:
        for row in session.scalars(select(OutboxCommandRow)):
            if row.lease_until is not None:
                row.lease_until = engine.ctx.now() - timedelta(seconds=1)


def test_a_stale_claim_whose_lease_was_taken_over_records_nothing(make_engine):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.poll_due(force=True)
    # the same process claims the sourcing command, is too slow, and claims it again
    stale = claim(engine.ctx, engine.owner, 1)
    _expire_leases(engine)
    fresh = claim(engine.ctx, engine.owner, 1)
    assert [c.id for c in fresh] == [c.id for c in stale]

    stale_result = perform(engine.ctx, stale[0])
    fresh_result = perform(engine.ctx, fresh[0])
    assert record(engine.ctx, [stale_result]) == 0
    assert record(engine.ctx, [fresh_result]) == 1
    with engine.db.transaction() as session:
        timeline = repo.order_detail(session, "default", fresh[0].order_id).timeline
    assert [e.event for e in timeline].count("sourced") == 1


def test_leases_of_work_in_progress_are_renewed_and_taken_over_ones_left_alone(make_engine):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.poll_due(force=True)
    working = claim(engine.ctx, engine.owner, 1)[0]
    engine.leases.hold([working.claim_token, "a-claim-taken-over-meanwhile"])
    _expire_leases(engine)

    engine.leases.renew()

    with engine.db.transaction() as session:
        row = session.get(OutboxCommandRow, working.id)
        assert row.lease_until > engine.ctx.now()
    engine.leases.release([working.claim_token])
    others = claim(engine.ctx, "another-process", 10)
    assert working.id not in [c.id for c in others]  # still ours: renewed
