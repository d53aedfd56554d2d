"""Three merchants in one folder, served by two ``fbs run --config-dir`` processes.

Specified here (one scenario, on the test database; PostgreSQL with
``FBS_TEST_DATABASE_URL``):

* each merchant's orders complete with one effect each (one charge, one purchase order
  per order) though two processes serve all three merchants;
* a merchant's file edited mid-run takes effect in both processes without a restart;
* a broken edit is refused (file, key and problem on stderr, after SIGHUP too) and the
  merchant's last good config keeps running;
* a 2,000-order backlog of one merchant does not hold up another's orders: they complete
  while the backlog is still being worked through (the processes are then stopped with
  SIGTERM part-way through it, cleanly, with nothing done twice).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fbs_core.db import Database
from fbs_core.db import repository as repo
from fbs_core.db.migrate import upgrade
from fbs_core.testing.ledger import EffectLedger

BACKLOG = 2000


def write_merchant(
    folder: Path, name: str, database_url: str, orders: int, extra: str = ""
) -> None:
    ledger = folder.parent / f"{name}-effects.db"
    (folder / f"{name}.toml").write_text(
        f"""database_url = "{database_url}"
[plugins]
modules = ["fbs_core.testing.fakes"]
[scheduler]
tick_seconds = 0.2
workers = 4
{extra}
[channels.shop]
type = "fake-channel"
poll_interval = 1
[channels.shop.options]
market = "{name}"
generate = {orders}
seed = {len(name)}
page_size = 250
ledger = "{name}"
ledger_path = "{ledger}"
[suppliers.east]
type = "fake-supplier"
poll_interval = 1
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


def completed(db: Database, merchant: str) -> int:
    with db.transaction() as session:
        return repo.count_by_status(session, merchant).get("completed", 0)


def wait_until(condition, what: str, seconds: float = 600) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.2)


@pytest.mark.slow
def test_three_merchants_two_processes_one_folder(tmp_path: Path, fbs_database_url: str):
    folder = tmp_path / "merchants"
    folder.mkdir()
    write_merchant(folder, "acme", fbs_database_url, 5)
    write_merchant(folder, "brakes", fbs_database_url, BACKLOG)
    write_merchant(folder, "coil", fbs_database_url, 3)
    db = Database(fbs_database_url)
    upgrade(db)  # as the first process would; the counts below read it from the start
    env = {**os.environ, "FBS_LOAD_PLUGINS": ""}
    env.pop("FBS_DATABASE_URL", None)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "fbs_core", "run", "--config-dir", str(folder)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    try:
        wait_until(
            lambda: completed(db, "acme") == 5 and completed(db, "coil") == 3, "first orders"
        )
        assert completed(db, "brakes") < BACKLOG, "the backlog held up the other merchants"

        write_merchant(folder, "coil", fbs_database_url, 4)  # an edit: one more order
        wait_until(lambda: completed(db, "coil") == 4, "the edited merchant's new order")
        assert completed(db, "brakes") < BACKLOG, "the backlog held up the edited merchant"

        good = (folder / "acme.toml").read_text()
        (folder / "acme.toml").write_text(good.replace("[scheduler]", "[scheduler]\nworkerz = 2"))
        for process in processes:
            process.send_signal(signal.SIGHUP)
        time.sleep(2)  # both have read the broken file; they keep serving acme
        assert all(process.poll() is None for process in processes)
        write_merchant(folder, "acme", fbs_database_url, 6)  # fixed, one more order
        wait_until(lambda: completed(db, "acme") == 6, "the fixed merchant's new order")
        assert completed(db, "brakes") < BACKLOG, "the backlog held up the fixed merchant"
        backlog_done = completed(db, "brakes")
    finally:
        outputs = []
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            out, err = process.communicate(timeout=120)
            outputs.append((process.returncode, out.decode(), err.decode()))
        db.dispose()
    for returncode, _out, err in outputs:
        assert returncode == 0, err
        assert "stopped cleanly" in err
        assert "merchants/acme.toml: scheduler.workerz: unknown key" in err
        assert "last good config kept" in err
    for name, count in (("acme", 6), ("coil", 4)):
        ledger = EffectLedger(str(tmp_path / f"{name}-effects.db"))
        try:
            assert ledger.count("charge") == count, name
            assert ledger.count("purchase_order") == count, name
        finally:
            ledger.close()
    # the backlog was stopped part-way (SIGTERM): what was done was done once per order
    ledger = EffectLedger(str(tmp_path / "brakes-effects.db"))
    try:
        assert backlog_done <= ledger.count("purchase_order") <= BACKLOG
        assert ledger.count("purchase_order") <= ledger.count("charge") <= BACKLOG
    finally:
        ledger.close()
