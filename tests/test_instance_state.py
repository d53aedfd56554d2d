"""An instance's durable key-value state, and polls that return part of a backlog.

A channel keeps what one cursor cannot hold (a second cursor, a rotating OAuth refresh
token) in ``Adapter.state``; the updates it returns with a batch are committed with the
orders and the cursor. A batch marked ``more`` is followed by another poll at once.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fbs_core.cli import main
from fbs_core.db import repository as repo
from fbs_core.db.models import OrderRow
from fbs_core.domain import OrderBatch, ShipmentBatch
from fbs_core.errors import AuthError, RetriableError
from fbs_core.pipeline import polling
from fbs_core.testing import fakes
from fbs_core.testing.harness import basic_config


def two_shops() -> dict[str, Any]:
    """The basic setup with a second channel reading another market."""
    config = basic_config()
    config["channels"]["other"] = {
        "type": "fake-channel",
        "options": {"ledger": "default", "market": "other"},
    }
    return config


def remember_polls(adapter, seen: list[dict[str, str]], fail_with: list[Exception]) -> None:
    """Make ``adapter`` count its polls in its state and rotate a refresh token each poll.

    Each poll records the state it was given in ``seen``. While ``fail_with`` holds an
    exception, the poll rotates its token in memory and then raises it, as a channel
    whose token refresh succeeded but whose order request failed would.
    """

    def fetch_orders(cursor: str | None) -> OrderBatch:
        seen.append(dict(adapter.state))
        polls = int(adapter.state.get("polls", "0")) + 1
        adapter.rotated = f"rt-{adapter.name}-{polls}"
        if fail_with:
            raise fail_with.pop(0)
        return OrderBatch(
            cursor=cursor, state={"polls": str(polls), "refresh_token": adapter.rotated}
        )

    adapter.fetch_orders = fetch_orders


def stored_state(engine, name: str = "shop") -> dict[str, str] | None:
    with engine.db.transaction() as session:
        row = repo.instance_state(session, engine.ctx.merchant_id, "channel", name)
        return dict(row.adapter_state) if row.adapter_state is not None else None


def last_error(engine, name: str = "shop") -> str | None:
    with engine.db.transaction() as session:
        return repo.instance_state(session, engine.ctx.merchant_id, "channel", name).last_error


def test_state_written_by_one_poll_is_read_by_the_next(make_engine):
    engine = make_engine()
    seen: list[dict[str, str]] = []
    remember_polls(engine.runtime.channels["shop"], seen, [])
    engine.poll_due(force=True)
    engine.poll_due(force=True)
    assert seen == [{}, {"polls": "1", "refresh_token": "rt-shop-1"}]
    assert stored_state(engine) == {"polls": "2", "refresh_token": "rt-shop-2"}


def test_the_state_survives_a_restart(make_engine):
    first = make_engine()
    remember_polls(first.runtime.channels["shop"], [], [])
    first.poll_due(force=True)
    first.stop()
    restarted = make_engine()
    seen: list[dict[str, str]] = []
    remember_polls(restarted.runtime.channels["shop"], seen, [])
    restarted.poll_due(force=True)
    assert seen == [{"polls": "1", "refresh_token": "rt-shop-1"}]


def test_two_instances_keep_separate_state(make_engine):
    engine = make_engine(two_shops())
    shop_seen: list[dict[str, str]] = []
    other_seen: list[dict[str, str]] = []
    remember_polls(engine.runtime.channels["shop"], shop_seen, [])
    remember_polls(engine.runtime.channels["other"], other_seen, [])
    engine.poll_due(force=True)
    engine.poll_due(force=True)
    assert shop_seen[1] == {"polls": "1", "refresh_token": "rt-shop-1"}
    assert other_seen[1] == {"polls": "1", "refresh_token": "rt-other-1"}
    assert stored_state(engine, "other") == {"polls": "2", "refresh_token": "rt-other-2"}


def test_a_failed_poll_keeps_the_old_state_and_never_shows_the_token(make_engine, caplog):
    engine = make_engine()
    seen: list[dict[str, str]] = []
    failures: list[Exception] = []
    adapter = engine.runtime.channels["shop"]
    remember_polls(adapter, seen, failures)
    engine.poll_due(force=True)
    failures.append(RetriableError("token rt-shop-1 was refused by the store"))
    with caplog.at_level(logging.DEBUG):
        engine.poll_due(force=True)
    assert adapter.rotated == "rt-shop-2"  # rotated in memory, then the poll failed
    assert stored_state(engine) == {"polls": "1", "refresh_token": "rt-shop-1"}
    error = last_error(engine)
    assert error is not None and "refused" in error
    assert "rt-shop-1" not in error
    assert "poll failed" in caplog.text
    assert "rt-shop-1" not in caplog.text
    engine.poll_due(force=True)
    assert seen[-1] == {"polls": "1", "refresh_token": "rt-shop-1"}


def test_a_poll_whose_batch_cannot_be_stored_keeps_the_old_state(make_engine, monkeypatch, caplog):
    engine = make_engine()
    remember_polls(engine.runtime.channels["shop"], [], [])
    engine.poll_due(force=True)

    def broken_ingest(ctx, session, name, batch):
        raise RuntimeError(f"cannot store {batch.state}")

    monkeypatch.setattr(polling, "ingest", broken_ingest)
    with caplog.at_level(logging.DEBUG):
        engine.poll_due(force=True)
    assert stored_state(engine) == {"polls": "1", "refresh_token": "rt-shop-1"}
    error = last_error(engine)
    assert error is not None and error.startswith("RuntimeError: cannot store")
    for token in ("rt-shop-1", "rt-shop-2"):
        assert token not in error
        assert token not in caplog.text
    assert "storing the poll failed" in caplog.text


def test_secret_values_are_masked_wherever_the_state_is_shown(make_engine):
    engine = make_engine()
    adapter = engine.runtime.channels["shop"]
    remember_polls(adapter, [], [])
    adapter.secret_state_keys = frozenset({"polls"})
    engine.poll_due(force=True)
    engine.poll_due(force=True)  # loads the state the first poll stored
    assert adapter.masked_state() == {"polls": "***", "refresh_token": "***"}


def generated_shop(orders: int, page_size: int) -> dict[str, Any]:
    config = basic_config()
    config["channels"]["shop"]["options"] = {
        "ledger": "default",
        "generate": orders,
        "page_size": page_size,
    }
    return config


def external_ids(engine) -> list[str]:
    with engine.db.transaction() as session:
        return sorted(session.scalars(select(OrderRow.external_id)))


def test_a_backlog_of_three_pages_arrives_over_three_polls(make_engine):
    engine = make_engine(generated_shop(orders=7, page_size=3))
    counts = []
    for _ in range(4):
        engine.poll_due()  # due polls only: a page marked "more" makes the next one due
        counts.append(len(external_ids(engine)))
    assert counts == [3, 6, 7, 7]
    ids = external_ids(engine)
    assert len(set(ids)) == len(ids) == 7


def test_run_until_idle_drains_a_backlog_even_through_an_empty_page(make_engine):
    engine = make_engine()
    pages = [
        OrderBatch(cursor="1", more=True),  # a page the remote filtered to nothing
        OrderBatch(orders=(fakes.generated_order(0, seed=4),), cursor="2", more=True),
        OrderBatch(orders=(fakes.generated_order(1, seed=4),), cursor="3"),
    ]
    cursors: list[str | None] = []

    def fetch_orders(cursor: str | None) -> OrderBatch:
        cursors.append(cursor)
        return pages[len(cursors) - 1] if len(cursors) <= len(pages) else OrderBatch(cursor=cursor)

    engine.runtime.channels["shop"].fetch_orders = fetch_orders
    engine.run_until_idle()
    assert cursors[:3] == [None, "1", "2"]
    assert len(external_ids(engine)) == 2


@pytest.mark.parametrize("key", ["refresh_token", "client_secret"])
def test_keys_ending_token_or_secret_are_secret(make_engine, key):
    adapter = make_engine().runtime.channels["shop"]
    assert adapter.is_secret_state_key(key)
    assert not adapter.is_secret_state_key("orders_cursor")


def test_fbs_check_gives_a_check_the_stored_state_and_masks_its_token(
    make_engine, monkeypatch, tmp_path, fbs_database_url
):
    engine = make_engine()
    remember_polls(engine.runtime.channels["shop"], [], [])
    engine.poll_due(force=True)
    engine.stop()
    given: list[str] = []

    def check(self) -> None:
        token = self.state.get("refresh_token", "")
        given.append(token)
        raise AuthError(f"the store revoked the refresh token {token}")

    monkeypatch.setattr(fakes.FakeChannel, "check", check)
    monkeypatch.chdir(tmp_path)
    for name in ("FBS_CONFIG", "FBS_DATABASE_URL", "FBS_BLOCK_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FBS_LOAD_PLUGINS", "")
    config = tmp_path / "fbs.toml"
    config.write_text(
        f"""
database_url = "{fbs_database_url}"
[plugins]
modules = ["fbs_core.testing.fakes"]
[channels.shop]
type = "fake-channel"
[suppliers.east]
type = "fake-supplier"
[payments.card]
type = "fake-payment"
"""
    )
    result = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert given == ["rt-shop-1"]
    assert "the store revoked the refresh token" in result.output
    assert "rt-shop-1" not in result.output
    assert result.exit_code == 1, result.output


def test_a_supplier_keeps_state_and_pages_its_shipments_too(make_engine):
    engine = make_engine()
    seen: list[tuple[str | None, dict[str, str]]] = []
    supplier = engine.runtime.suppliers["east"]

    def fetch_shipments(cursor: str | None) -> ShipmentBatch:
        seen.append((cursor, dict(supplier.state)))
        page = len(seen)
        return ShipmentBatch(cursor=str(page), state={"page": str(page)}, more=page < 2)

    supplier.fetch_shipments = fetch_shipments
    engine.poll_due(force=True)
    engine.poll_due()  # due at once: the first page said more
    engine.poll_due()  # not due: the second page was the last
    assert seen == [(None, {}), ("1", {"page": "1"})]
    with engine.db.transaction() as session:
        row = repo.instance_state(session, engine.ctx.merchant_id, "supplier", "east")
        assert row.adapter_state == {"page": "2"}
