"""Ship-by dates: kept with the order, shown, and watched.

Specified here:

* the ship-by date a channel reports becomes the order's ship-by date (and a later
  modification that moves it moves the date);
* ``fbs orders list --json`` and the order's domain view carry it;
* an order held with no purchase order ``ship_by_po_hours`` after it arrived raises
  ``fbs_order_ship_by_at_risk`` (risk ``no_purchase_order``) and a log warning, once;
* one business day before the date, an order whose tracking is not on the channel
  raises it again with the risk ``no_tracking``;
* an order without a ship-by date is never warned about.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import fbs_core
from fbs_core.db import repository as repo
from fbs_core.pipeline.ship_by_watch import business_day_before
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order

MONDAY = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict]] = []

    @fbs_core.hookimpl
    def fbs_order_ship_by_at_risk(self, order, event):
        self.calls.append((order.external_id, str(order.ship_by), dict(event.data)))


def held_engine(make_engine, now: list[datetime]):
    engine = make_engine(mode="manual")  # every order waits for approval: nothing is bought
    engine.ctx.clock = lambda: now[0]
    recorder = Recorder()
    engine.ctx.pm.register(recorder, name="ship-by-recorder")
    return engine, recorder


def stored(engine, external_id):
    with engine.db.transaction() as session:
        [order] = [o for o in repo.list_orders(session, "default") if o.external_id == external_id]
        return order


def test_the_ship_by_date_is_kept_and_follows_modifications(make_engine):
    engine = make_engine(mode="manual")  # held, so a modification still applies
    first = MONDAY + timedelta(days=2)
    fakes.market("default").add(make_order("S1", [("OIL-FLT-5W30", 1)], ship_by=first))
    engine.run_until_idle()
    assert stored(engine, "S1").ship_by == first

    later = first + timedelta(days=1)
    fakes.market("default").add(make_order("S1", [("OIL-FLT-5W30", 1)], minute=5, ship_by=later))
    engine.run_until_idle()
    assert stored(engine, "S1").ship_by == later


def test_no_purchase_order_in_time_then_no_tracking_each_warn_once(make_engine, caplog):
    now = [MONDAY]
    engine, recorder = held_engine(make_engine, now)
    ship_by = MONDAY + timedelta(days=4)  # Friday
    fakes.market("default").add(make_order("R1", [("OIL-FLT-5W30", 1)], ship_by=ship_by))
    fakes.market("default").add(make_order("N1", [("OIL-FLT-5W30", 1)]))
    engine.run_until_idle()
    assert recorder.calls == []

    now[0] = MONDAY + timedelta(hours=25)
    with caplog.at_level(logging.WARNING, logger="fbs"):
        engine.run_until_idle()
        engine.run_until_idle()
    assert [(c[0], c[2]["risk"]) for c in recorder.calls] == [("R1", "no_purchase_order")]
    assert "no purchase order" in caplog.text

    now[0] = business_day_before(ship_by)
    engine.run_until_idle()
    engine.run_until_idle()
    assert [(c[0], c[2]["risk"]) for c in recorder.calls] == [
        ("R1", "no_purchase_order"),
        ("R1", "no_tracking"),
    ]


def test_one_business_day_before_skips_the_weekend():
    monday = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    assert business_day_before(monday) == datetime(2030, 1, 4, 9, 0, tzinfo=UTC)
    assert business_day_before(monday + timedelta(days=2)) == monday + timedelta(days=1)


CONFIG = """
[plugins]
modules = ["fbs_core.testing.fakes"]

[channels.shop]
type = "fake-channel"

[suppliers.east]
type = "fake-supplier"

[payments.card]
type = "fake-payment"
"""


def test_orders_list_and_show_print_the_ship_by_date(
    make_engine, fbs_database_url, tmp_path, monkeypatch
):
    import json

    from click.testing import CliRunner

    from fbs_core.cli import main

    engine = make_engine(mode="manual")
    ship_by = datetime(2030, 1, 11, 23, 0, tzinfo=UTC)
    fakes.market("default").add(make_order("C1", [("OIL-FLT-5W30", 1)], ship_by=ship_by))
    engine.run_until_idle()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FBS_LOAD_PLUGINS", "")
    monkeypatch.setenv("FBS_DATABASE_URL", fbs_database_url)
    (tmp_path / "fbs.toml").write_text(CONFIG)
    runner = CliRunner()

    listed = runner.invoke(main, ["orders", "list", "--json"])
    table = runner.invoke(main, ["orders", "list"])
    shown = runner.invoke(main, ["orders", "show", "1"])

    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)[0]["ship_by"] == ship_by.isoformat()
    assert "2030-01-11 23:00" in table.stdout
    assert "ship by: 2030-01-11 23:00" in shown.stdout
