"""Orders per second through the whole pipeline, next to the bare cost of its database writes.

Runs N generated orders through the real engine (intake, review, sourcing, charge,
purchase order, shipment, tracking push, completion) with the counting fake plugins
(no network) on a fresh SQLite file, recording every INSERT/UPDATE/DELETE the pipeline
commits, grouped by transaction. It then replays exactly those writes, in the same
transactions and commit order, through the bare DB-API driver on a second fresh file:
that is the bound. It prints both rates and their ratio, and the SQL statements the
pipeline sent per order by kind (SELECT, INSERT, UPDATE, ...), beside the aims: a ratio of
at least 0.25 and at most 30 statements per order over the whole lifecycle.

    uv run python benchmarks/pipeline.py [--orders 2000] [--workers 4] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from fbs_core.db import Database
from fbs_core.db import repository as repo
from fbs_core.db.migrate import upgrade
from fbs_core.testing.harness import build_engine


class WriteRecorder:
    """Collects committed write statements per transaction, in commit order."""

    def __init__(self, db: Database) -> None:
        self.transactions: list[list[tuple[str, Any]]] = []
        self.statements: dict[str, int] = {}
        """Every statement sent to the driver (reads too; an executemany is one), by keyword."""
        self._open: dict[int, list[tuple[str, Any]]] = {}
        self._lock = threading.Lock()
        engine = db.engine
        event.listen(engine, "before_cursor_execute", self._execute)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)

    def _execute(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        verb = statement.lstrip().split(None, 1)[0].upper()
        with self._lock:
            self.statements[verb] = self.statements.get(verb, 0) + 1
        if verb in ("INSERT", "UPDATE", "DELETE"):
            many = (
                bool(parameters)
                and isinstance(parameters, list | tuple)
                and isinstance(parameters[0], list | tuple | dict)
            )
            self._open.setdefault(id(conn), []).append(
                (statement, list(parameters) if many else parameters)
            )

    def _commit(self, conn) -> None:  # noqa: ANN001
        writes = self._open.pop(id(conn), [])
        if writes:
            with self._lock:
                self.transactions.append(writes)

    def _rollback(self, conn) -> None:  # noqa: ANN001
        self._open.pop(id(conn), None)


def config(orders: int, workers: int) -> dict[str, Any]:
    fake = {"ledger": "bench"}
    return {
        "scheduler": {"workers": workers},
        "channels": {
            "shop": {
                "type": "fake-channel",
                "options": {**fake, "generate": orders, "seed": 7, "page_size": 250},
            }
        },
        "suppliers": {
            "east": {
                "type": "fake-supplier",
                "options": {**fake, "ship_from_zip": "07102", "generated_stock_seed": 1},
            },
            "west": {
                "type": "fake-supplier",
                "options": {**fake, "ship_from_zip": "90001", "generated_stock_seed": 2},
            },
        },
        "payments": {"card": {"type": "fake-payment", "options": fake}},
    }


def run_pipeline(
    url: str, orders: int, workers: int
) -> tuple[float, WriteRecorder, dict[str, int]]:
    engine = build_engine(url, config(orders, workers))
    recorder = WriteRecorder(engine.db)
    started = time.perf_counter()
    engine.run_until_idle()
    elapsed = time.perf_counter() - started
    with engine.db.transaction() as session:
        counts = repo.count_by_status(session, "default")
    engine.stop()
    engine.db.dispose()
    return elapsed, recorder, counts


def replay(path: Path, transactions: list[list[tuple[str, Any]]]) -> float:
    """Execute the recorded writes with the bare sqlite3 driver, same transactions, same order."""
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    started = time.perf_counter()
    for writes in transactions:
        conn.execute("BEGIN IMMEDIATE")
        for statement, parameters in writes:
            if (
                isinstance(parameters, list)
                and parameters
                and isinstance(parameters[0], list | tuple | dict)
            ):
                conn.executemany(statement, parameters)
            else:
                conn.execute(statement, parameters)
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pipeline_db = Path(folder) / "pipeline.db"
        elapsed, recorder, counts = run_pipeline(
            f"sqlite:///{pipeline_db}", args.orders, args.workers
        )
        assert counts == {"completed": args.orders}, counts
        writes = sum(len(t) for t in recorder.transactions)
        bare = replay(Path(folder) / "bare.db", recorder.transactions)
    pipeline_rate = args.orders / elapsed
    bare_rate = args.orders / bare
    print(
        f"orders: {args.orders} completed, {len(recorder.transactions)} transactions, {writes} write statements"
    )
    print(
        f"pipeline (engine + fake plugins, SQLite WAL): {elapsed:7.2f} s  {pipeline_rate:8.1f} orders/s"
    )
    print(
        f"bound (same writes, same transactions, bare sqlite3): {bare:7.2f} s  {bare_rate:8.1f} orders/s"
    )
    print(f"pipeline / bound: {pipeline_rate / bare_rate:.2f} (aim: 0.25 or more, then 0.5)")
    per_order = {verb: count / args.orders for verb, count in sorted(recorder.statements.items())}
    total = sum(per_order.values())
    kinds = ", ".join(f"{verb} {count:.1f}" for verb, count in per_order.items())
    print(f"SQL statements per order: {total:.1f} (aim: 30 or fewer): {kinds}")


if __name__ == "__main__":
    main()
