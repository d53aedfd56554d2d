"""``fbs run``: one scheduler job whatever the number of stores, and a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fbs_core.db import Database
from fbs_core.db import repository as repo
from fbs_core.scheduler import TICK_JOB_ID, build_scheduler
from fbs_core.testing.harness import build_engine


def test_the_scheduler_has_one_tick_job_however_many_stores(fbs_database_url):
    stores = {
        f"shop-{i}": {"type": "fake-channel", "options": {"market": f"m{i}"}} for i in range(25)
    }
    engine = build_engine(fbs_database_url, {"channels": stores})
    try:
        scheduler = build_scheduler(engine, tick_seconds=1.0)
        jobs = scheduler.get_jobs()
        assert [job.id for job in jobs] == [TICK_JOB_ID]
        assert jobs[0].max_instances == 1 and jobs[0].coalesce
    finally:
        engine.stop()
        engine.db.dispose()


def test_fbs_run_works_until_sigterm_then_stops_cleanly(tmp_path: Path, fbs_database_url):
    config = tmp_path / "fbs.toml"
    config.write_text(
        f"""
database_url = "{fbs_database_url}"
[plugins]
modules = ["fbs_core.testing.fakes"]
[scheduler]
tick_seconds = 0.2
[channels.shop]
type = "fake-channel"
poll_interval = 1
[channels.shop.options]
generate = 15
ledger_path = "{tmp_path / "effects.db"}"
[suppliers.east]
type = "fake-supplier"
poll_interval = 1
[suppliers.east.options]
generated_stock_seed = 1
ledger_path = "{tmp_path / "effects.db"}"
[payments.card]
type = "fake-payment"
[payments.card.options]
ledger_path = "{tmp_path / "effects.db"}"
"""
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "fbs_core", "--config", str(config), "run"],
        env={**os.environ, "FBS_LOAD_PLUGINS": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        completed = 0
        while time.monotonic() < deadline and completed < 15:
            time.sleep(0.5)
            completed = _completed(fbs_database_url)
        assert completed == 15, "the loop did not finish the orders"
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert "stopped cleanly" in stderr.decode()
    assert "orders: 15 completed" in stdout.decode()


def _completed(url: str) -> int:
    db = Database(url)
    try:
        with db.transaction() as session:
            return repo.count_by_status(session, "default").get("completed", 0)
    except Exception:  # the schema may not exist yet while fbs run starts
        return 0
    finally:
        db.dispose()
