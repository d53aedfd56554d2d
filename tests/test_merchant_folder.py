"""Many merchants in one deployment: ``fbs run --config-dir DIR``.

Specified here:

* every merchant file of a folder is served from one process, one database and one pool;
  each merchant's orders complete, under its own merchant id, with one effect each;
* the merchant id is the file's ``merchant_id`` or, without one, the file's name;
* a file added, changed or removed is picked up on the next turn without a restart;
* a broken edit is refused with the file, the key and the problem, and the merchant
  keeps running on its last good config;
* a file that names another database, or the merchant id of another file, is refused;
* claims are fair: a merchant's backlog (of orders, or of stores due a poll) never keeps
  another merchant's work waiting for more than one round of the backlogged merchant;
* ``fbs run --config-dir DIR --until-idle``, ``fbs check --config-dir DIR`` (every merchant)
  and ``fbs orders list --config-dir DIR
  --merchant M`` work from the command line; a webhook reaches its merchant's channel
  under ``/merchants/<merchant>/webhooks/<channel>``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from fbs_core.cli import main
from fbs_core.db import Database
from fbs_core.db import repository as repo
from fbs_core.db.migrate import upgrade
from fbs_core.fleet import Fleet, open_fleet
from fbs_core.fleet_webhooks import MerchantWebhooks
from fbs_core.server import WebhookServer
from fbs_core.testing.ledger import shared_ledger


@pytest.fixture(autouse=True)
def _only_local_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FBS_LOAD_PLUGINS", "")
    monkeypatch.delenv("FBS_DATABASE_URL", raising=False)


def merchant_file(
    folder: Path,
    name: str,
    database_url: str,
    *,
    orders: int,
    extra: str = "",
    merchant_id: str | None = None,
    workers: int = 4,
) -> Path:
    """Write a merchant file with one fake store of ``orders`` orders and one warehouse."""
    ledger = folder.parent / f"{name}-effects.db"
    head = f'merchant_id = "{merchant_id}"\n' if merchant_id else ""
    path = folder / f"{name}.toml"
    path.write_text(
        f"""{head}database_url = "{database_url}"
{extra}
[plugins]
modules = ["fbs_core.testing.fakes"]
[scheduler]
workers = {workers}
backoff_base_seconds = 0.01
backoff_max_seconds = 0.05
[channels.shop]
type = "fake-channel"
[channels.shop.options]
market = "{name}"
generate = {orders}
seed = {len(name)}
ledger = "{name}"
ledger_path = "{ledger}"
[suppliers.east]
type = "fake-supplier"
[suppliers.east.options]
generated_stock_seed = 1
ledger = "{name}"
ledger_path = "{ledger}"
[payments.card]
type = "fake-payment"
[payments.card.options]
ledger = "{name}"
ledger_path = "{ledger}"
"""
    )
    return path


def effects(folder: Path, name: str, kind: str) -> int:
    """How many distinct effects of ``kind`` the fakes of merchant ``name`` performed."""
    return shared_ledger(name, str(folder.parent / f"{name}-effects.db")).count(kind)


def open_test_fleet(folder: Path) -> Fleet:
    def db_for(settings) -> Database:  # noqa: ANN001 - the deployment's settings
        db = Database(settings.database_url)
        upgrade(db)
        return db

    return open_fleet(folder, db_for)


def completed(fleet: Fleet, merchant_id: str) -> int:
    with fleet.db.transaction() as session:
        return repo.count_by_status(session, merchant_id).get("completed", 0)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "merchants"
    path.mkdir()
    return path


def test_three_merchants_complete_from_one_fleet_with_one_effect_each(folder, fbs_database_url):
    for name, count in (("acme", 3), ("brakes-r-us", 4), ("coil", 2)):
        merchant_file(folder, name, fbs_database_url, orders=count)
    fleet = open_test_fleet(folder)
    try:
        assert sorted(fleet.merchants) == ["acme", "brakes-r-us", "coil"]
        assert fleet.problems == {}
        pools = {id(m.engine.pool) for m in fleet.merchants.values()}
        assert pools == {id(fleet.pool)}, "one worker pool for every merchant"
        fleet.run_until_idle()
        for name, count in (("acme", 3), ("brakes-r-us", 4), ("coil", 2)):
            assert completed(fleet, name) == count
            assert effects(folder, name, "charge") == count
            assert effects(folder, name, "purchase_order") == count
    finally:
        fleet.stop()
        fleet.db.dispose()


def test_the_merchant_id_comes_from_the_file(folder, fbs_database_url):
    merchant_file(folder, "acme", fbs_database_url, orders=1, merchant_id="acme-parts")
    merchant_file(folder, "Bad_Name", fbs_database_url, orders=1)
    fleet = open_test_fleet(folder)
    try:
        assert sorted(fleet.merchants) == ["acme-parts"]
        (problem,) = fleet.problems.values()
        assert "Bad_Name.toml: merchant_id: not set" in problem
    finally:
        fleet.stop()
        fleet.db.dispose()


def test_added_changed_and_removed_files_are_picked_up_without_a_restart(folder, fbs_database_url):
    merchant_file(folder, "acme", fbs_database_url, orders=2)
    fleet = open_test_fleet(folder)
    try:
        fleet.run_until_idle()
        assert completed(fleet, "acme") == 2
        merchant_file(folder, "brakes", fbs_database_url, orders=3)  # added
        merchant_file(folder, "acme", fbs_database_url, orders=5)  # changed: 3 more orders
        fleet.run_until_idle()
        assert sorted(fleet.merchants) == ["acme", "brakes"]
        assert completed(fleet, "acme") == 5
        assert completed(fleet, "brakes") == 3
        assert effects(folder, "acme", "charge") == 5
        (folder / "brakes.toml").unlink()  # removed
        fleet.tick()
        assert sorted(fleet.merchants) == ["acme"]
    finally:
        fleet.stop()
        fleet.db.dispose()


def test_a_broken_edit_is_refused_and_the_last_good_config_keeps_running(folder, fbs_database_url):
    path = merchant_file(folder, "acme", fbs_database_url, orders=2)
    fleet = open_test_fleet(folder)
    try:
        running = fleet.merchants["acme"].engine
        good = path.read_text()
        path.write_text(good.replace("[scheduler]", "[scheduler]\nworkerz = 3"))
        problems = fleet.reload()
        assert len(problems) == 1
        assert "acme.toml: scheduler.workerz: unknown key" in problems[0]
        assert fleet.merchants["acme"].engine is running, "the last good config keeps running"
        fleet.run_until_idle()
        assert completed(fleet, "acme") == 2
        path.write_text(good.replace("generate = 2", "generate = 3"))
        assert fleet.reload() == []
        assert fleet.problems == {}
        fleet.run_until_idle()
        assert completed(fleet, "acme") == 3
    finally:
        fleet.stop()
        fleet.db.dispose()


def test_a_file_naming_another_database_or_merchant_is_refused(folder, fbs_database_url, tmp_path):
    merchant_file(folder, "acme", fbs_database_url, orders=1)
    merchant_file(folder, "brakes", f"sqlite:///{tmp_path / 'other.db'}", orders=1)
    merchant_file(folder, "copy", fbs_database_url, orders=1, merchant_id="acme")
    merchant_file(folder, "dash", fbs_database_url, orders=1, workers=2)
    fleet = open_test_fleet(folder)
    try:
        assert sorted(fleet.merchants) == ["acme"]
        text = "\n".join(fleet.problems.values())
        assert "brakes.toml: database_url: differs from the deployment's database" in text
        assert "copy.toml: merchant_id: 'acme' is already served from" in text
        assert "dash.toml: scheduler.workers: differs from the deployment's (4)" in text
    finally:
        fleet.stop()
        fleet.db.dispose()


def test_a_backlog_does_not_hold_up_another_merchants_order(folder, fbs_database_url):
    merchant_file(folder, "big", fbs_database_url, orders=120, workers=2)
    merchant_file(folder, "small", fbs_database_url, orders=1, workers=2)
    fleet = open_test_fleet(folder)
    try:
        fleet.poll_due(force=True)
        cycles = 0
        while completed(fleet, "small") < 1:
            assert fleet.drain_cycle() > 0, "work was left undone"
            cycles += 1
            fleet.poll_due(force=True)  # the warehouse's shipments, as a tick polls them
        # each cycle gave "small" a round, so its order needed only as many cycles as it
        # has steps, while "big" got one bounded round per cycle and is far from done
        assert cycles <= 10
        assert completed(fleet, "big") < 120
        fleet.run_until_idle()
        assert completed(fleet, "big") == 120
    finally:
        fleet.stop()
        fleet.db.dispose()


def test_fbs_run_and_orders_take_the_folder_from_the_command_line(folder, fbs_database_url):
    merchant_file(folder, "acme", fbs_database_url, orders=2)
    merchant_file(folder, "brakes", fbs_database_url, orders=1)
    runner = CliRunner()
    result = runner.invoke(main, ["run", "--config-dir", str(folder), "--until-idle", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["orders"] == {"completed": 3}
    listed = runner.invoke(
        main, ["orders", "list", "--config-dir", str(folder), "--merchant", "acme"]
    )
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.count("completed") == 2
    ambiguous = runner.invoke(main, ["orders", "list", "--config-dir", str(folder)])
    assert ambiguous.exit_code == 2
    assert "several merchants (acme, brakes); name one with --merchant" in ambiguous.output


def test_a_webhook_reaches_its_merchants_channel(folder, fbs_database_url):
    merchant_file(folder, "acme", fbs_database_url, orders=1)
    fleet = open_test_fleet(folder)
    woken: list[bool] = []
    fleet.on_wake = lambda: woken.append(True)
    try:
        with WebhookServer(MerchantWebhooks(fleet), port=0) as server:
            health = httpx.get(f"{server.url}/healthz").json()
            assert health == {"ok": True, "merchants": ["acme"]}
            missing = httpx.post(f"{server.url}/merchants/nobody/webhooks/shop", content=b"{}")
            assert missing.status_code == 404
            unknown = httpx.post(f"{server.url}/merchants/acme/webhooks/other", content=b"{}")
            assert unknown.json() == {"error": "no channel named 'other'"}
            # the fake channel takes no webhooks: its answer is the plugin's own refusal
            reached = httpx.get(f"{server.url}/merchants/acme/webhooks/shop")
            assert reached.status_code == 405
    finally:
        fleet.stop()
        fleet.db.dispose()
    assert os.environ.get("FBS_LOAD_PLUGINS") == ""


def test_fbs_check_checks_every_merchant_of_the_folder(folder, fbs_database_url):
    merchant_file(folder, "acme", fbs_database_url, orders=1)
    broken = merchant_file(folder, "brakes", fbs_database_url, orders=1)
    runner = CliRunner()
    result = runner.invoke(main, ["check", "--config-dir", str(folder)])
    assert result.exit_code == 0, result.output
    assert "acme.toml" in result.stderr and "brakes.toml" in result.stderr
    assert result.stdout.count("3 ok, 0 failed") == 2
    broken.write_text(broken.read_text().replace("[scheduler]", "[scheduler]\nworkerz = 1"))
    result = runner.invoke(main, ["check", "--config-dir", str(folder)])
    assert result.exit_code == 2
    assert "brakes.toml: scheduler.workerz: unknown key" in result.stderr
    assert "3 ok, 0 failed" in result.stdout, "the good merchant is still checked"


def test_a_merchant_with_many_stores_due_takes_turns_with_the_others(folder, fbs_database_url):
    stores = "".join(
        f'\n[channels.shop{n}]\ntype = "fake-channel"\n[channels.shop{n}.options]\n'
        f'market = "many-{n}"\nledger = "many"\n'
        for n in range(12)
    )
    merchant_file(folder, "many", fbs_database_url, orders=0, workers=2, extra="")
    path = folder / "many.toml"
    path.write_text(path.read_text() + stores)
    merchant_file(folder, "small", fbs_database_url, orders=1, workers=2)
    fleet = open_test_fleet(folder)
    turns: list[tuple[str, int]] = []
    for merchant_id, merchant in fleet.merchants.items():
        engine = merchant.engine
        original = engine.poll_round

        def recorded(unpolled, merchant_id=merchant_id, original=original):  # noqa: ANN001
            left, found = original(unpolled)
            turns.append((merchant_id, len(unpolled) - len(left)))
            return left, found

        engine.poll_round = recorded
    try:
        fleet.poll_due(force=True)
        polled = [turn for turn in turns if turn[1]]
        assert polled[0][0] == "many" and polled[1] == ("small", 2), polled
        assert all(count <= 2 for _, count in polled), "a round is at most one pool's worth"
        assert sum(count for m, count in polled if m == "many") == 14
        assert fleet.merchants["many"].engine.progress.polls == 14
    finally:
        fleet.stop()
        fleet.db.dispose()
