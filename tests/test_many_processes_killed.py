"""Three ``fbs run`` processes on one PostgreSQL database, SIGKILLed at random and restarted.

They start together on an empty database (so they also race to migrate it), share one
merchant and its instances, and are killed one at a time and started again: most kills
land at a random instant after the victim is up and working, some while it is still
starting (migrating, claiming its first work). Once the kills stop, the survivors must finish all 200 orders: every order
completed, every charge, purchase order, tracking push and acknowledgement exactly once
in the fakes' file-backed ledger, and no lease left behind. The seed is printed; set
``FBS_CRASH_SEED`` to replay a run.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from fbs_core.db import Database
from fbs_core.db.models import InstanceStateRow, OutboxCommandRow
from fbs_core.testing import broker_runs as runs

ORDERS = 200
PROCESSES = 3
KILLS_EACH = 3
STARTUP_KILL_SHARE = 0.25
UP_TIMEOUT = 90
SETTLE_SECONDS = 200

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("FBS_TEST_DATABASE_URL", "").startswith("postgres"),
        reason="several processes share one database only on PostgreSQL "
        "(set FBS_TEST_DATABASE_URL=postgresql://...)",
    ),
]


def log_path(config: Path, index: int) -> Path:
    return config.parent / f"broker-{index}.log"


def start(config: Path, index: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start broker ``index``; return it and where its log stood when it started."""
    log = log_path(config, index)
    offset = log.stat().st_size if log.exists() else 0
    return runs.broker(config, log=log), offset


def log_of(config: Path, index: int) -> str:
    return log_path(config, index).read_text(errors="replace")[-4000:]


def wait_until_up(config: Path, index: int, offset: int) -> None:
    """Wait until broker ``index`` (started at log ``offset``) says it is running."""
    settle_start(config, index, offset)
    assert b"fbs running" in log_path(config, index).read_bytes()[offset:], (
        f"broker {index} never came up:\n{log_of(config, index)}"
    )


def settle_start(config: Path, index: int, offset: int) -> None:
    """Give broker ``index`` up to ``UP_TIMEOUT`` seconds to say it is running."""
    deadline = time.monotonic() + UP_TIMEOUT
    while time.monotonic() < deadline:
        if b"fbs running" in log_path(config, index).read_bytes()[offset:]:
            return
        time.sleep(0.1)


def assert_alive(config: Path, processes: list[subprocess.Popen[bytes]]) -> None:
    for index, process in enumerate(processes):
        assert process.poll() is None, f"broker {index} died by itself:\n{log_of(config, index)}"


def leases_left(config: Path) -> list[str]:
    db = Database(runs.database_url(config))
    try:
        with db.transaction() as session:
            polls = session.scalars(
                select(InstanceStateRow).where(InstanceStateRow.lease_until.is_not(None))
            )
            commands = session.scalars(
                select(OutboxCommandRow).where(OutboxCommandRow.lease_until.is_not(None))
            )
            return [f"poll {row.kind}:{row.name}" for row in polls] + [
                f"command {row.kind} {row.idempotency_key} ({row.status})" for row in commands
            ]
    finally:
        db.dispose()


def test_three_processes_killed_at_random_finish_every_order_exactly_once(
    tmp_path, fbs_database_url, crash_seed
):
    rng = random.Random(crash_seed)
    config = runs.write_config(
        tmp_path, fbs_database_url, orders=ORDERS, scheduler="tick_seconds = 0.2", page_size=25
    )
    started = [start(config, index) for index in range(PROCESSES)]
    processes = [process for process, _ in started]
    offsets = [offset for _, offset in started]
    victims = list(range(PROCESSES)) * KILLS_EACH
    rng.shuffle(victims)
    try:
        for victim in victims:
            if rng.random() < STARTUP_KILL_SHARE:
                time.sleep(rng.uniform(0.5, 4.0))  # maybe still importing or migrating
            else:
                wait_until_up(config, victim, offsets[victim])
                time.sleep(rng.uniform(0.1, 3.0))
            assert_alive(config, processes)
            processes[victim].send_signal(signal.SIGKILL)
            processes[victim].wait()
            processes[victim], offsets[victim] = start(config, victim)

        deadline = time.monotonic() + SETTLE_SECONDS
        while not runs.all_final(config, ORDERS):
            assert_alive(config, processes)
            assert time.monotonic() < deadline, (
                f"orders still not final {SETTLE_SECONDS} s after the last kill (seed {crash_seed})"
            )
            time.sleep(1)
    finally:
        # SIGTERM stops a broker cleanly once it runs; one restarted just before the
        # orders became final may still be starting, before its handler is installed
        for index, process in enumerate(processes):
            if process.poll() is None:
                settle_start(config, index, offsets[index])
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    for index, process in enumerate(processes):
        assert process.returncode == 0, (
            f"broker {index} did not stop cleanly:\n{log_of(config, index)}"
        )
    ledger = runs.ledger_of(config)
    runs.check_exactly_once(config, ledger, ORDERS)
    assert ledger.count("acknowledge") == ORDERS
    assert leases_left(config) == []
