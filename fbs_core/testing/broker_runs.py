"""Run the broker as real processes, kill them, and check what they did (SCALE.md section 5).

The crash tests start ``python -m fbs_core run`` on a real database with the fake plugins
recording every effect in a file-backed :class:`~fbs_core.testing.ledger.EffectLedger`,
SIGKILL the processes, restart them, and then check that every order finished with each
charge, purchase order and tracking push performed exactly once in effect.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from ..db import Database
from ..db import repository as repo
from .ledger import EffectLedger

MERCHANT = "default"


def write_config(
    folder: Path, database_url: str, *, orders: int, scheduler: str = "", page_size: int = 7
) -> Path:
    """An fbs.toml with the fake plugins: one channel of ``orders`` generated orders."""
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
{scheduler}

[channels.shop]
type = "fake-channel"
poll_interval = 1
[channels.shop.options]
generate = {orders}
seed = 11
page_size = {page_size}
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


def ledger_of(config: Path) -> EffectLedger:
    """The effect ledger the fakes of ``config`` write to."""
    return EffectLedger(str(config.parent / "effects.db"))


def broker(
    config: Path, *args: str, log: Path | None = None, **env: str
) -> subprocess.Popen[bytes]:
    """Start ``fbs run`` (``args`` such as ``--until-idle``) on ``config`` as a process.

    Its stderr is a pipe, or appended to ``log`` for a process that runs long enough
    to fill a pipe nobody reads.
    """
    stderr = subprocess.PIPE if log is None else log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "fbs_core", "--config", str(config), "run", *args],
            env={**os.environ, "FBS_LOAD_PLUGINS": "", **env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    finally:
        if log is not None:
            stderr.close()  # type: ignore[union-attr]


def kill_after(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """SIGKILL the process after ``seconds`` unless it ended; True if it was killed."""
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True


def database_url(config: Path) -> str:
    """The ``database_url`` written in ``config``."""
    line = next(line for line in config.read_text().splitlines() if line.startswith("database_url"))
    return line.split("=", 1)[1].strip().strip('"')


def all_final(config: Path, orders: int) -> bool:
    """Whether all ``orders`` completed and no command is still open."""
    db = Database(database_url(config))
    try:
        with db.transaction() as session:
            counts = repo.count_by_status(session, MERCHANT)
            return (
                counts == {"completed": orders} and repo.count_open_commands(session, MERCHANT) == 0
            )
    finally:
        db.dispose()


def check_exactly_once(config: Path, ledger: EffectLedger, orders: int) -> None:
    """Every order completed with one charge, its purchase orders and tracking pushes once."""
    db = Database(database_url(config))
    try:
        with db.transaction() as session:
            rows = repo.list_orders(session, MERCHANT)
            details = [repo.order_detail(session, MERCHANT, order.id) for order in rows]
    finally:
        db.dispose()
    assert len(rows) == orders, "an order was lost or duplicated"
    assert {o.status.value for o in rows} == {"completed"}

    # a charge key ends in "-<order id>-<attempt>"
    charges_by_order = Counter(effect.key.rsplit("-", 2)[1] for effect in ledger.effects("charge"))
    assert len(charges_by_order) == orders and set(charges_by_order.values()) == {1}, (
        "a second charge"
    )
    recorded = {c.idempotency_key: c for d in details for c in d.charges if c.status == "succeeded"}
    assert len(recorded) == orders
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
