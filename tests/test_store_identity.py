"""Stores known by identity: renaming a channel keeps its orders; moving it is refused.

Orders belong to (merchant, store identity, external id). The fake channel names its
store ``fake:<store option, else market>``, so a test can rename an instance (same store,
new name), point it at another market (another store) or change ``merchant_id``, and
watch what the real pipeline does with the orders already in flight.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import select, update

from fbs_core.cli import main
from fbs_core.db import repository as repo
from fbs_core.db.migrate import _alembic_config, head_revision, sqlite_foreign_keys_off, upgrade
from fbs_core.db.models import InstanceHeartbeatRow, OrderRow
from fbs_core.errors import ConfigError, RetriableError
from fbs_core.testing import fakes
from fbs_core.testing.harness import basic_config
from fbs_core.testing.ledger import EffectLedger

IN_FLIGHT = 20


def shop_config(
    channel: str = "demo-store", *, market: str = "default", merchant_id: str | None = None
) -> dict[str, Any]:
    """The basic fake setup with warehouses that ship only when told to."""
    config = basic_config(market=market)
    config["channels"] = {channel: config["channels"].pop("shop")}
    for supplier in config["suppliers"].values():
        supplier["options"]["ship_immediately"] = False
    if merchant_id is not None:
        config["merchant_id"] = merchant_id
    return config


def orders_in_flight(make_engine, ledger: EffectLedger, count: int = IN_FLIGHT, **config: Any):
    """``count`` orders charged and bought, waiting for the warehouse to ship."""
    engine = make_engine(shop_config(**config))
    for index in range(count):
        fakes.market(config.get("market", "default")).add(fakes.generated_order(index, seed=7))
    engine.run_until_idle()
    assert statuses(engine) == {"ordered": count}
    assert ledger.count("purchase_order") == count
    engine.stop()
    return engine


def statuses(engine) -> dict[str, int]:
    with engine.db.transaction() as session:
        return repo.count_by_status(session, engine.ctx.merchant_id)


def ship_everything(ledger: EffectLedger) -> None:
    for effect in ledger.effects("purchase_order"):
        fakes.ship(ledger, effect.target, effect.key)


def test_renaming_a_channel_with_orders_in_flight_finishes_each_order_once(make_engine, ledger):
    orders_in_flight(make_engine, ledger)

    renamed = make_engine(shop_config("my-shop"))
    ship_everything(ledger)
    renamed.run_until_idle()

    assert statuses(renamed) == {"completed": IN_FLIGHT}
    assert ledger.count("charge") == ledger.calls("charge") == IN_FLIGHT
    assert ledger.count("purchase_order") == ledger.calls("purchase_order") == IN_FLIGHT
    pushes = ledger.effects("tracking")
    assert len(pushes) == ledger.calls("tracking") == IN_FLIGHT
    assert {push.target for push in pushes} == {"my-shop"}  # through the instance now configured
    with renamed.db.transaction() as session:
        orders = repo.list_orders(session, renamed.ctx.merchant_id)
    assert {order.channel for order in orders} == {"my-shop"}
    assert len({order.external_id for order in orders}) == IN_FLIGHT


def test_a_renamed_channel_carries_on_from_where_the_old_name_stopped_reading(make_engine, ledger):
    orders_in_flight(make_engine, ledger, count=3)

    renamed = make_engine(shop_config("my-shop"))
    renamed.prepare()

    with renamed.db.transaction() as session:
        state = repo.instance_state(session, renamed.ctx.merchant_id, "channel", "my-shop")
        assert state.cursor == "3"
        assert state.store_identity == "fake:default"


def test_changing_merchant_id_with_orders_in_flight_is_refused_with_what_to_do(make_engine, ledger):
    orders_in_flight(make_engine, ledger, count=2)

    moved = make_engine(shop_config(merchant_id="acme-parts"))
    with pytest.raises(ConfigError) as refused:
        moved.run_until_idle()

    message = str(refused.value)
    assert "merchant_id changed from 'default' to 'acme-parts'" in message
    assert "2 order(s) in flight" in message
    assert "Set merchant_id back to 'default'" in message
    assert ledger.count("charge") == 2  # nothing imported again, nothing charged again
    with moved.db.transaction() as session:
        assert repo.count_by_status(session, "acme-parts") == {}


def test_pointing_a_channel_at_another_store_with_orders_in_flight_is_refused(make_engine, ledger):
    orders_in_flight(make_engine, ledger, count=2, market="north")
    fakes.market("south").add(fakes.generated_order(99, seed=8))

    pointed = make_engine(shop_config(market="south"))
    with pytest.raises(ConfigError) as refused:
        pointed.run_until_idle()

    message = str(refused.value)
    assert "[channels.demo-store] now points at a different store" in message
    assert "it read fake:north, it now reads fake:south" in message
    assert "2 order(s) from fake:north are in flight" in message
    assert ledger.count("charge") == 2


def test_pointing_a_channel_at_another_store_once_its_orders_are_done_is_allowed(
    make_engine, ledger
):
    orders_in_flight(make_engine, ledger, count=2, market="north")
    finishing = make_engine(shop_config(market="north"))
    ship_everything(ledger)
    finishing.run_until_idle()
    finishing.stop()
    fakes.market("south").add(fakes.generated_order(99, seed=8))

    pointed = make_engine(shop_config(market="south"))
    pointed.run_until_idle()

    assert statuses(pointed) == {"completed": 2, "ordered": 1}
    with pointed.db.transaction() as session:
        state = repo.instance_state(session, "default", "channel", "demo-store")
        assert state.store_identity == "fake:south"
        assert state.cursor == "1"  # the new store was read from its beginning


def test_two_channels_reading_one_store_are_refused(make_engine):
    config = shop_config()
    config["channels"]["copy"] = dict(config["channels"]["demo-store"])
    engine = make_engine(config)

    with pytest.raises(ConfigError, match="all read the same store"):
        engine.prepare()


# -- the command line ------------------------------------------------------------------


def write_config(path: Path, database_url: str, *, channel: str, merchant_id: str) -> Path:
    path.write_text(
        f"""
merchant_id = "{merchant_id}"
database_url = "{database_url}"
[plugins]
modules = ["fbs_core.testing.fakes"]
[channels.{channel}]
type = "fake-channel"
[suppliers.east]
type = "fake-supplier"
[suppliers.east.options]
generated_stock_seed = 1
ship_immediately = false
[payments.card]
type = "fake-payment"
"""
    )
    return path


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("FBS_CONFIG", "FBS_DATABASE_URL", "FBS_BLOCK_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FBS_LOAD_PLUGINS", "")


def test_check_and_run_refuse_a_changed_merchant_id_with_one_message(
    cli_env, tmp_path, fbs_database_url, ledger
):
    for index in range(3):
        fakes.market("default").add(fakes.generated_order(index, seed=5))
    first = write_config(
        tmp_path / "first.toml", fbs_database_url, channel="shop", merchant_id="default"
    )
    started = CliRunner().invoke(main, ["--config", str(first), "run", "--until-idle"])
    assert started.exit_code == 0, started.output
    assert ledger.count("charge") == 3

    changed = write_config(
        tmp_path / "changed.toml", fbs_database_url, channel="my-shop", merchant_id="acme"
    )
    for args in (["check"], ["run", "--until-idle"]):
        result = CliRunner().invoke(main, ["--config", str(changed), *args])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        assert (
            "error: merchant_id changed from 'default' to 'acme': the store of "
            "[channels.my-shop] (fake:default) has 3 order(s) in flight" in result.output
        )
    assert ledger.count("charge") == 3


# -- upgrading a database whose orders were kept by instance name ----------------------


def test_upgrading_keeps_orders_and_the_first_poll_files_them_under_the_store(make_engine, ledger):
    engine = orders_in_flight(make_engine, ledger, count=3)
    engine.db.dispose()
    config = _alembic_config()
    with (
        engine.db.engine.connect() as connection,
        sqlite_foreign_keys_off(connection),
        connection.begin(),
    ):
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert upgrade(engine.db) == ("0001", head_revision())
    with engine.db.transaction() as session:
        assert {row.store_identity for row in session.scalars(select(OrderRow))} == {
            "instance:demo-store"
        }

    upgraded = make_engine(shop_config())
    ship_everything(ledger)
    upgraded.run_until_idle()

    assert statuses(upgraded) == {"completed": 3}
    assert ledger.calls("charge") == 3
    with upgraded.db.transaction() as session:
        assert {row.store_identity for row in session.scalars(select(OrderRow))} == {"fake:default"}


def test_orders_of_a_channel_removed_from_the_config_are_held_not_left_shipped(make_engine, ledger):
    orders_in_flight(make_engine, ledger, count=2, market="north")
    fakes.market("south").add(fakes.generated_order(99, seed=8))
    config = shop_config("other-shop", market="south")  # demo-store is gone, not renamed
    engine = make_engine(config)
    # the process that had demo-store stopped more than a lease period ago
    with engine.db.transaction() as session:
        session.execute(
            update(InstanceHeartbeatRow)
            .where(InstanceHeartbeatRow.name == "demo-store")
            .values(seen_at=engine.ctx.now() - timedelta(hours=1))
        )

    ship_everything(ledger)
    engine.run_until_idle()

    with engine.db.transaction() as session:
        held = repo.list_orders(session, engine.ctx.merchant_id, statuses=["held"])
    assert [(order.channel, order.hold_reason) for order in held] == [
        ("demo-store", "instance_not_configured")
    ] * 2
    assert "channel 'demo-store' is not configured" in held[0].hold_message
    assert ledger.count("tracking") == 0


@pytest.mark.parametrize(
    "failure", [RetriableError("the store is down"), RuntimeError("a bug in the plugin")]
)
def test_a_channel_that_cannot_name_its_store_is_retried_and_nothing_else_stops(
    make_engine, ledger, failure
):
    engine = make_engine(shop_config())
    fakes.fail_next("demo-store", failure, failure, method="store_identity")
    fakes.market("default").add(fakes.generated_order(0, seed=7))

    engine.run_until_idle()  # start-up and the first poll both fail to name the store

    with engine.db.transaction() as session:
        state = repo.instance_state(session, "default", "channel", "demo-store")
        assert str(failure) in state.last_error
        assert state.store_identity is None
    assert statuses(engine) == {}

    engine.run_until_idle()

    assert statuses(engine) == {"ordered": 1}
