"""Kill the broker at random instants and at every named step boundary; nothing is lost or doubled.

The broker runs as a real process (``python -m fbs_core run --until-idle``) on a real
database, with the fake plugins recording every effect in a ledger file that outlives
each killed process. After the kills, plain restarts must finish every order, and the
ledger must show each charge, purchase order and tracking push exactly once in effect.
Set ``FBS_CRASH_SEED`` to replay a failing run; the seed is printed either way.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from fbs_core.db import Database
from fbs_core.db import repository as repo
from fbs_core.faults import CRASH_POINTS
from fbs_core.testing.ledger import EffectLedger

ORDERS = 40
RANDOM_KILLS = 50


def write_config(folder: Path, database_url: str) -> Path:
    ledger = folder / "effects.db"
    config = folder / "fbs.toml"
    config.write_text(
        f"""
database_url = "{database_url}"

[plugins]
modules = ["fbs_core.testing.fakes"]

[scheduler]
workers = 4
lease_seconds = 1
backoff_base_seconds = 0.05
backoff_max_seconds = 0.5
max_attempts = 50

[channels.shop]
type = "fake-channel"
poll_interval = 1
[channels.shop.options]
generate = {ORDERS}
seed = 11
page_size = 7
ledger_path = "{ledger}"

[suppliers.east]
type = "fake-supplier"
poll_interval = 1
[suppliers.east.options]
ship_from_zip = "07102"
generated_stock_seed = 1
ledger_path = "{ledger}"

[suppliers.west]
type = "fake-supplier"
poll_interval = 1
[suppliers.west.options]
ship_from_zip = "90001"
generated_stock_seed = 2
ledger_path = "{ledger}"

[payments.card]
type = "fake-payment"
[payments.card.options]
ledger_path = "{ledger}"
"""
    )
    return config


def broker(config: Path, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "fbs_core", "--config", str(config), "run", "--until-idle"],
        env={**os.environ, "FBS_LOAD_PLUGINS": "", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_after(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """SIGKILL the process after ``seconds`` unless it ended; True if it was killed."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


def finish(config: Path, runs: int = 30) -> None:
    """Restart without faults until a run ends cleanly and everything is final."""
    for _ in range(runs):
        time.sleep(1.1)  # let leases held by killed processes expire
        process = broker(config)
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()
        if all_final(config):
            return
    pytest.fail("orders still not final after clean restarts")


def all_final(config: Path) -> bool:
    db = Database(_url(config))
    try:
        with db.transaction() as session:
            counts = repo.count_by_status(session, "default")
            return (
                counts == {"completed": ORDERS}
                and repo.count_open_commands(session, "default") == 0
            )
    finally:
        db.dispose()


def _url(config: Path) -> str:
    line = next(line for line in config.read_text().splitlines() if line.startswith("database_url"))
    return line.split("=", 1)[1].strip().strip('"')


def check_exactly_once(config: Path, ledger: EffectLedger) -> None:
    db = Database(_url(config))
    try:
        with db.transaction() as session:
            orders = repo.list_orders(session, "default")
            details = [repo.order_detail(session, "default", order.id) for order in orders]
    finally:
        db.dispose()
    assert len(orders) == ORDERS, "an order was lost or duplicated"
    assert {o.status.value for o in orders} == {"completed"}

    # a charge key ends in "-<order id>-<attempt>"
    charges_by_order = Counter(effect.key.rsplit("-", 2)[1] for effect in ledger.effects("charge"))
    assert len(charges_by_order) == ORDERS and set(charges_by_order.values()) == {1}, (
        "a second charge"
    )
    recorded = {c.idempotency_key: c for d in details for c in d.charges if c.status == "succeeded"}
    assert len(recorded) == ORDERS
    for effect in ledger.effects("charge"):
        assert effect.payload["amount_cents"] == recorded[effect.key].amount_cents, (
            "charged a different amount"
        )

    po_numbers = [po.po_number for d in details for po in d.purchase_orders]
    assert sorted(e.key for e in ledger.effects("purchase_order")) == sorted(po_numbers), (
        "PO lost or doubled"
    )
    shipments = [s for d in details for s in d.shipments]
    assert all(s.tracking_pushed for s in shipments)
    assert ledger.count("tracking") == len(shipments) == len(po_numbers), (
        "tracking push lost or doubled"
    )
    assert ledger.count("refund") == 0


@pytest.fixture
def crash_seed() -> int:
    seed = int(os.environ.get("FBS_CRASH_SEED") or random.randrange(1 << 30))
    print(f"crash test seed: FBS_CRASH_SEED={seed}")
    return seed


def test_sigkill_at_random_instants_loses_nothing_and_doubles_nothing(
    tmp_path, fbs_database_url, crash_seed
):
    rng = random.Random(crash_seed)
    config = write_config(tmp_path, fbs_database_url)
    kills = 0
    attempts = 0
    while kills < RANDOM_KILLS and attempts < RANDOM_KILLS * 3:
        attempts += 1
        process = broker(config)
        kills += kill_after(process, rng.uniform(0.9, 2.6))
    assert kills >= RANDOM_KILLS, f"only {kills} kills landed (seed {crash_seed})"

    finish(config)

    ledger = EffectLedger(str(tmp_path / "effects.db"))
    check_exactly_once(config, ledger)
    assert ledger.calls("charge") >= ledger.count("charge")


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_sigkill_at_each_step_boundary_loses_nothing_and_doubles_nothing(
    tmp_path, fbs_database_url, crash_seed, point
):
    config = write_config(tmp_path, fbs_database_url)
    crashes = 0
    for run in range(12):
        process = broker(
            config, FBS_CRASH_AT=f"{point}:0.3", FBS_CRASH_SEED=f"{crash_seed}-{point}-{run}"
        )
        _, stderr = process.communicate(timeout=300)
        if process.returncode == 137:
            crashes += 1
            time.sleep(1.1)
        else:
            assert process.returncode == 0, stderr.decode()
        if crashes >= 3:
            break
    assert crashes >= 1, f"the crash point {point} was never reached (seed {crash_seed})"

    finish(config)

    check_exactly_once(config, EffectLedger(str(tmp_path / "effects.db")))
