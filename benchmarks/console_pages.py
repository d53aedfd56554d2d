"""The console's orders page on 100,000 orders, next to the bare SQL that fetches the same rows.

Seeds N orders (default 100,000) of one merchant, with a line each, a purchase order and a
shipment for most, into a fresh database (SQLite file, or --database-url). Then, in the
same run, times three pages through the console's whole HTTP stack (uvicorn, session
cookie, Starlette, the scoped queries, Jinja2), each beside the bare SQL through the
DB-API driver that returns the same rows (the page's orders and their lines):

* the orders page (newest 50);
* a filtered page (held orders, reason ``no_stock``);
* a search by tracking number.

It prints the median of each and the ratio; the aim is within 3x of bare SQL.

    uv run python benchmarks/console_pages.py [--orders 100000] [--repeat 15] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text

from fbs_core.console.console_app import ConsoleConfig, create_console_app
from fbs_core.console.console_users import Role, add_user
from fbs_core.db import Database
from fbs_core.db.migrate import upgrade
from fbs_core.db.models import OrderLineRow, OrderRow, PurchaseOrderRow, ShipmentRow
from fbs_core.server import WebhookServer
from fbs_core.testing.database import reset_database

MERCHANT = "bench"
PASSWORD = "benchmark password"
STATUSES = ("completed",) * 7 + ("ordered", "held", "shipped")
BATCH = 5000


def seed(db: Database, count: int) -> str:
    """Insert ``count`` orders; return a tracking number that exists once."""
    start = datetime(2026, 11, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    tracking = ""
    with db.engine.begin() as connection:
        for first in range(1, count + 1, BATCH):
            ids = range(first, min(first + BATCH, count + 1))
            orders, lines, pos, shipments = [], [], [], []
            for i in ids:
                status = STATUSES[i % len(STATUSES)]
                placed = start + timedelta(seconds=i * 25)
                orders.append(
                    {
                        "id": i,
                        "merchant_id": MERCHANT,
                        "channel": "shop",
                        "store_identity": "https://shop.example.com",
                        "external_id": str(100000 + i),
                        "number": str(100000 + i),
                        "status": status,
                        "hold_reason": "no_stock" if status == "held" else None,
                        "hold_message": "No warehouse has it." if status == "held" else None,
                        "held_from": "approved" if status == "held" else None,
                        "cancel_requested": False,
                        "currency": "USD",
                        "ship_to": {
                            "name": f"Buyer {i}",
                            "city": "Austin",
                            "region": "TX",
                            "postal_code": "78701",
                            "country": "US",
                            "line1": "1 Main St",
                        },
                        "buyer_paid": {
                            "items": {"cents": 4999, "currency": "USD"},
                            "shipping": {"cents": 999, "currency": "USD"},
                            "tax": {"cents": 0, "currency": "USD"},
                            "total": {"cents": 5998, "currency": "USD"},
                        },
                        "placed_at": placed,
                        "upstream_updated_at": placed,
                        "charge_generation": 1,
                        "source_generation": 1,
                        "po_sequence": 1,
                        "created_at": placed,
                        "updated_at": now,
                    }
                )
                lines.append(
                    {
                        "id": i,
                        "merchant_id": MERCHANT,
                        "order_id": i,
                        "line_id": "1",
                        "sku": f"SKU-{i % 500}",
                        "quantity": 1,
                        "title": "Brake pads",
                        "unit_price_cents": 4999,
                        "currency": "USD",
                        "shipped_quantity": 0,
                        "cancelled_quantity": 0,
                    }
                )
                if status != "held":
                    pos.append(
                        {
                            "id": i,
                            "merchant_id": MERCHANT,
                            "order_id": i,
                            "po_number": f"BENCH-{i}-1",
                            "supplier": "east",
                            "status": "placed",
                            "ship_from_zip": "07102",
                            "currency": "USD",
                            "shipping_cents": 999,
                            "tax_cents": 0,
                            "created_at": placed,
                            "updated_at": placed,
                        }
                    )
                if status in ("completed", "shipped"):
                    number = f"1Z{i:016d}"
                    tracking = tracking or number
                    shipments.append(
                        {
                            "id": i,
                            "merchant_id": MERCHANT,
                            "order_id": i,
                            "purchase_order_id": i,
                            "supplier": "east",
                            "shipment_id": f"S{i}",
                            "carrier": "ups",
                            "tracking_number": number,
                            "shipped_at": placed,
                            "lines": [],
                            "tracking_pushed": True,
                            "created_at": placed,
                        }
                    )
            connection.execute(insert(OrderRow), orders)
            connection.execute(insert(OrderLineRow), lines)
            if pos:
                connection.execute(insert(PurchaseOrderRow), pos)
            if shipments:
                connection.execute(insert(ShipmentRow), shipments)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    return tracking


BARE = {
    "orders page": (
        "SELECT * FROM orders WHERE merchant_id = :m ORDER BY id DESC LIMIT 51",
        {},
    ),
    "filtered page": (
        "SELECT * FROM orders WHERE merchant_id = :m AND status = 'held' "
        "AND hold_reason = 'no_stock' ORDER BY id DESC LIMIT 51",
        {},
    ),
    "search by tracking number": (
        "SELECT * FROM orders WHERE merchant_id = :m AND id IN (SELECT order_id FROM shipments "
        "WHERE merchant_id = :m AND tracking_number = :t) ORDER BY id DESC LIMIT 51",
        {},
    ),
}


def bare(db: Database, sql: str, params: dict[str, str]) -> int:
    """The page's orders and their lines, through the driver; returns the order count."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        statement = text(sql).compile(db.engine)
        cursor.execute(str(statement), _positional(statement, params, db))
        rows = cursor.fetchall()
        ids = [row[0] for row in rows]
        if ids:
            marks = ", ".join(["%s" if db.engine.dialect.name == "postgresql" else "?"] * len(ids))
            cursor.execute(f"SELECT * FROM order_lines WHERE order_id IN ({marks})", ids)
            cursor.fetchall()
        connection.commit()
        return len(ids)
    finally:
        connection.close()


def _positional(statement, params, db):  # noqa: ANN001, ANN202
    names = statement.positiontup if statement.positional else None
    if names is None:
        return params
    return [params[name] for name in names]


def timed(action: Callable[[], object], repeat: int) -> float:
    action()  # warm up caches and the connection pool
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'console-bench.db'}"
    if args.database_url:
        reset_database(url)
    db = Database(url)
    upgrade(db)
    started = time.perf_counter()
    tracking = seed(db, args.orders)
    print(
        f"seeded {args.orders} orders in {time.perf_counter() - started:.1f} s on {db.engine.dialect.name}"
    )
    with db.transaction() as session:
        add_user(session, MERCHANT, "bench", Role.viewer, PASSWORD, datetime.now(UTC))

    def no_actions(_merchant: str):  # noqa: ANN202 - the benchmark only reads
        raise RuntimeError("the benchmark takes no action")

    server = WebhookServer(
        create_console_app(db, ConsoleConfig(contexts=no_actions)), "127.0.0.1", 0
    )
    server.start()
    try:
        client = httpx.Client(base_url=server.url)
        page = client.get("/sign-in")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post(
            "/sign-in",
            data={"csrf_token": token, "username": "bench", "password": PASSWORD, "next": "/"},
        )
        pages = {
            "orders page": "/orders",
            "filtered page": "/orders?status=held&hold_reason=no_stock",
            "search by tracking number": f"/orders?q={tracking}",
        }
        print(f"{'':28}{'console':>12}{'bare SQL':>12}{'ratio':>8}")
        for name, path in pages.items():
            answer = client.get(path)
            assert answer.status_code == 200 and 'table class="orders"' in answer.text, path
            sql, _ = BARE[name]
            params = {"m": MERCHANT, "t": tracking}
            assert bare(db, sql, params) > 0, name
            console_s = timed(lambda path=path: client.get(path).raise_for_status(), args.repeat)
            bare_s = timed(lambda sql=sql, params=params: bare(db, sql, params), args.repeat)
            print(
                f"{name:28}{console_s * 1000:>10.1f}ms{bare_s * 1000:>10.1f}ms{console_s / bare_s:>7.1f}x"
            )
        client.close()
    finally:
        server.stop()
        db.dispose()


if __name__ == "__main__":
    main()
