"""``fbs demo``: the real plugins, the real engine and scheduler, against local imitations.

:func:`run_demo` starts one store per chosen channel type (WooCommerce by default; see
:mod:`fbs_sandbox.demo_stores`), Stripe and three warehouses on 127.0.0.1, writes an
``fbs.toml`` that points the installed channel, ``stripe`` and ``http`` plugins at them,
deals the orders out between the stores and runs the scheduler until every order is
finished: completed, rejected, cancelled, or held for the merchant. It then compares what
fbs recorded with what the imitations saw, and returns a :class:`DemoReport`.

The config folder and its SQLite file are kept, so ``fbs orders list --config <path>``
can inspect the result afterwards. With a ``keep_console`` callback (``fbs demo
--console``) the imitations keep running after the report: the config turns to manual
mode, a few more orders are placed and held for approval, and the merchant console is
served with a demo owner, so a newcomer can click Send and watch an order go through. The credentials written into that config are the
imitations' throwaway test keys; the servers they opened are gone when the demo ends.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from fbs_core.cli.context import CliContext
from fbs_core.cli.database import open_database
from fbs_core.config import DATABASE_URL_ENV
from fbs_core.db import Database
from fbs_core.db import repository as repo
from fbs_core.domain import OrderStatus
from fbs_core.domain.views import OrderDetail
from fbs_core.engine import Engine
from fbs_core.scheduler import run_until_signalled
from fbs_core.sourcing.geo import distance_miles

from .demo_data import (
    TAX_RATES_PERCENT,
    WAREHOUSES,
    PlannedOrder,
    plan_orders,
)
from .demo_stores import DemoStore, make_demo_store
from .serving import RunningServer, serve
from .stripe_imitation import StripeImitation
from .warehouse import WarehouseImitation

DEFAULT_ORDERS = 25
DEFAULT_SEED = 1969
DEFAULT_TIME_LIMIT = 120.0
MERCHANT_ID = "demo"
CHANNEL = "demo-store"
PAYMENTS = "stripe"
STRIPE_CUSTOMER = "cus_demo"
STRIPE_PAYMENT_METHOD = "pm_card_visa"
# Throwaway test credentials of the local imitations; they open nothing real.
STRIPE_KEY = "sk_test_fbsdemo0123456789"
WAREHOUSE_KEY_PREFIX = "wh_demo_key_"
DONE_STATUSES = frozenset(
    {OrderStatus.completed, OrderStatus.cancelled, OrderStatus.rejected, OrderStatus.held}
)
"""Statuses after which nothing happens without the merchant: the demo waits for these."""


class DemoFailed(Exception):
    """The demo did not finish in time, or what fbs recorded disagrees with the imitations."""


@dataclass(frozen=True)
class DemoSettings:
    """How one demo run is set up.

    Args:
        orders: how many orders to place on the store (a few are meant to be held or
            rejected).
        seed: seeds the orders, so two runs with one seed place the same orders.
        time_limit: seconds the pipeline may take before the run fails, naming what is stuck.
        folder: where to write ``fbs.toml`` and ``fbs.db``; a new temporary folder if None.
        ship_delay_seconds: how long the warehouses take to ship (the east one half of it,
            the west one half again as long).
        poll_interval: seconds between polls of the store and of each warehouse.
        tick_seconds: the scheduler's period.
        database_url: the database to run on (PostgreSQL, say); None writes ``fbs.db``
            in ``folder``. On a named database each run is a merchant of its own
            (``demo-<random>``), so runs never mix with each other or with other data.
    """

    orders: int = DEFAULT_ORDERS
    seed: int = DEFAULT_SEED
    time_limit: float = DEFAULT_TIME_LIMIT
    folder: Path | None = None
    ship_delay_seconds: float = 1.0
    poll_interval: int = 1
    tick_seconds: float = 0.2
    database_url: str | None = None
    channels: tuple[str, ...] = ("woocommerce",)
    """Channel types to run a store of; the orders are dealt out between them in turn."""


def channel_instance_name(channel_type: str, channels: tuple[str, ...]) -> str:
    """The store's instance name in ``fbs.toml``: ``demo-store`` when it is the only one."""
    return CHANNEL if len(channels) == 1 else f"demo-{channel_type}"


# -- the imitations --------------------------------------------------------------------


@dataclass
class Sandbox:
    """The imitations and the servers that serve them on 127.0.0.1."""

    stores: dict[str, DemoStore]
    """Channel instance name → its store."""
    stripe: StripeImitation
    warehouses: dict[str, WarehouseImitation]
    servers: dict[str, RunningServer] = field(default_factory=dict)

    @classmethod
    def start(
        cls, ship_delay_seconds: float, channels: tuple[str, ...] = ("woocommerce",)
    ) -> Sandbox:
        """Create the imitations and serve each on a free loopback port."""
        factors = {"east": 0.5, "central": 1.0, "west": 1.5}
        sandbox = cls(
            stores={
                channel_instance_name(kind, channels): make_demo_store(kind) for kind in channels
            },
            stripe=StripeImitation(STRIPE_KEY, customer=STRIPE_CUSTOMER),
            warehouses={
                spec.name: WarehouseImitation(
                    spec.name,
                    WAREHOUSE_KEY_PREFIX + spec.name,
                    stock=spec.stock(),
                    ship_delay_seconds=ship_delay_seconds * factors.get(spec.name, 1.0),
                )
                for spec in WAREHOUSES
            },
        )
        try:
            for name, store in sandbox.stores.items():
                sandbox.servers[name] = serve(store.app)
            sandbox.servers["stripe"] = serve(sandbox.stripe.app)
            for name, warehouse in sandbox.warehouses.items():
                sandbox.servers[name] = serve(warehouse.app)
        except BaseException:
            sandbox.stop()
            raise
        return sandbox

    def url(self, name: str) -> str:
        """Base URL of a running imitation (a store's instance name, ``stripe`` or a warehouse)."""
        return self.servers[name].url

    def stop(self) -> None:
        """Stop every server that was started."""
        for server in self.servers.values():
            server.stop()

    def counts(self) -> dict[str, Any]:
        """What the imitations themselves saw, for comparison with fbs's own records."""
        warehouses = self.warehouses.values()
        return {
            "charges": self.stripe.charges,
            "charged_cents": self.stripe.charged_cents,
            "refunds": self.stripe.refunds,
            "refunded_cents": self.stripe.refunded_cents,
            "purchase_orders": sum(w.purchase_orders for w in warehouses),
            "purchase_orders_by_warehouse": {w.name: w.purchase_orders for w in warehouses},
            "shipments": sum(w.shipments for w in warehouses),
            "tracking_pushes": sum(s.tracking_pushes() for s in self.stores.values()),
            "orders_completed_on_store": sum(s.completed_orders() for s in self.stores.values()),
            "duplicate_effects": self.stripe.duplicate_effects
            + sum(s.duplicate_effects() for s in self.stores.values())
            + sum(w.duplicate_effects for w in warehouses),
        }


def write_config(
    folder: Path,
    sandbox: Sandbox,
    settings: DemoSettings,
    merchant_id: str = MERCHANT_ID,
    mode: str = "auto",
) -> Path:
    """Write ``fbs.toml`` pointing the real plugins at the imitations; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    database_url = settings.database_url or "sqlite:///fbs.db"
    taxes = ", ".join(f'{state} = "{rate}"' for state, rate in TAX_RATES_PERCENT.items())
    interval = settings.poll_interval
    parts = [
        "# Written by `fbs demo`: the real channel, stripe and http plugins pointed at\n"
        "# local imitations on 127.0.0.1. The keys below are the imitations' throwaway test\n"
        '# credentials (a real config reads secrets with { env = "NAME" }). The servers\n'
        "# stopped with the demo; `fbs orders list --config <this file>` reads its database.\n",
        f'merchant_id = "{merchant_id}"',
        f"database_url = {json.dumps(database_url)}",
        "",
        "[fulfillment]",
        f"mode = {json.dumps(mode)}",
        'on_no_stock = "resource"',
        "ship_to_military = false",
        "ship_to_territories = false",
        f"tax_rates_percent = {{ {taxes} }}",
        "",
        "[scheduler]",
        f"tick_seconds = {settings.tick_seconds}",
        "workers = 8",
        "backoff_base_seconds = 0.5",
        "backoff_max_seconds = 5.0",
        "",
    ]
    for name, store in sandbox.stores.items():
        parts += [
            f"[channels.{name}]",
            f"type = {json.dumps(store.channel_type)}",
            f"poll_interval = {interval}",
            f"[channels.{name}.options]",
            *(
                f"{key} = {_toml_value(value)}"
                for key, value in store.channel_options(sandbox.url(name)).items()
            ),
            "",
        ]
    for spec in WAREHOUSES:
        parts += [
            f"# {spec.label}",
            f"[suppliers.{spec.name}]",
            'type = "http"',
            f"poll_interval = {interval}",
            f"[suppliers.{spec.name}.options]",
            f'base_url = "{sandbox.url(spec.name)}"',
            f'api_key = "{WAREHOUSE_KEY_PREFIX + spec.name}"',
            f'ship_from_zip = "{spec.ship_from_zip}"',
            "",
        ]
    parts += [
        f"[payments.{PAYMENTS}]",
        'type = "stripe"',
        f"[payments.{PAYMENTS}.options]",
        f'api_key = "{STRIPE_KEY}"',
        f'customer = "{STRIPE_CUSTOMER}"',
        f'payment_method = "{STRIPE_PAYMENT_METHOD}"',
        f'api_base = "{sandbox.url("stripe")}"',
        "",
    ]
    path = folder / "fbs.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _toml_value(value: Any) -> str:
    """A TOML literal for a string, number or boolean option."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def place_orders(
    stores: dict[str, DemoStore], planned: list[PlannedOrder]
) -> dict[tuple[str, str], str]:
    """Deal the planned orders out between the stores, as paid orders.

    Returns:
        (channel instance, external id) → the expected outcome of that order.
    """
    names = list(stores)
    expected = {}
    for index, order in enumerate(planned):
        name = names[index % len(names)]
        expected[(name, stores[name].place_order(order))] = order.expect
    return expected


# -- the report ------------------------------------------------------------------------


@dataclass
class DemoReport:
    """What one demo run did, from fbs's database and from the imitations.

    ``checks`` names each invariant the run must satisfy and whether it held.
    """

    orders: int
    by_status: dict[str, int]
    held_reasons: dict[str, int]
    rejected_reasons: dict[str, int]
    charges: int
    purchase_orders_by_warehouse: dict[str, int]
    purchase_orders_by_buyer_region: dict[str, dict[str, int]]
    shipments: int
    tracking_pushed: int
    money: dict[str, int]
    sandbox: dict[str, Any]
    checks: dict[str, bool]
    database: str
    """The SQLite file's path, or the named database's URL without its password."""
    config: Path
    seconds: float
    pipeline_seconds: float

    def to_json(self) -> dict[str, Any]:
        """The one JSON object ``fbs demo --json`` prints."""
        return {
            "orders": self.orders,
            "by_status": self.by_status,
            "held_reasons": self.held_reasons,
            "rejected_reasons": self.rejected_reasons,
            "charges": self.charges,
            "purchase_orders_by_warehouse": self.purchase_orders_by_warehouse,
            "purchase_orders_by_buyer_region": self.purchase_orders_by_buyer_region,
            "shipments": self.shipments,
            "tracking_pushed": self.tracking_pushed,
            "money": self.money,
            "sandbox": self.sandbox,
            "checks": self.checks,
            "database": str(self.database),
            "config": str(self.config),
            "seconds": round(self.seconds, 2),
            "pipeline_seconds": round(self.pipeline_seconds, 2),
        }

    @property
    def failed_checks(self) -> list[str]:
        """Names of the checks that did not hold."""
        return [name for name, ok in self.checks.items() if not ok]


def nearest_warehouse(zip_code: str | None) -> str | None:
    """The demo warehouse closest to ``zip_code``, or None if the ZIP has no location."""
    distances = {spec.name: distance_miles(spec.ship_from_zip, zip_code) for spec in WAREHOUSES}
    known = {name: miles for name, miles in distances.items() if miles is not None}
    return min(known, key=known.__getitem__) if known else None


def build_report(
    db: Database,
    sandbox: Sandbox,
    expected: dict[tuple[str, str], str],
    *,
    config: Path,
    seconds: float,
    pipeline_seconds: float,
    merchant_id: str = MERCHANT_ID,
) -> DemoReport:
    """Read fbs's database and the imitations' counters into a :class:`DemoReport`."""
    with db.transaction() as session:
        by_status = repo.count_by_status(session, merchant_id)
        orders = repo.list_orders(session, merchant_id)
        details = [repo.order_detail(session, merchant_id, order.id) for order in orders]
    found = [detail for detail in details if detail is not None]
    held = Counter(d.order.hold_reason or "" for d in found if d.order.status == "held")
    rejected = Counter(d.order.hold_reason or "" for d in found if d.order.status == "rejected")
    charges = [c for d in found for c in d.charges if c.status == "succeeded"]
    pos = [po for d in found for po in d.purchase_orders if po.status not in ("replaced",)]
    by_region: dict[str, Counter[str]] = {}
    for detail in found:
        region = nearest_warehouse(
            detail.order.ship_to.postal_code if detail.order.ship_to else None
        )
        for po in detail.purchase_orders:
            if po.status != "replaced":
                by_region.setdefault(region or "unknown", Counter())[po.supplier] += 1
    shipments = [s for d in found for s in d.shipments]
    completed = by_status.get("completed", 0)
    money = {
        "charged_cents": sum(c.amount_cents for c in charges),
        "parts_cents": sum(c.parts_cents for c in charges),
        "core_charges_cents": sum(c.core_charges_cents for c in charges),
        "shipping_cents": sum(c.shipping_cents for c in charges),
        "tax_cents": sum(c.tax_cents for c in charges),
        "refunded_cents": sum(r.amount_cents for d in found for r in d.refunds),
        "buyers_paid_cents": sum(
            d.order.buyer_paid.total.cents
            for d in found
            if d.order.buyer_paid and d.order.status == "completed"
        ),
    }
    seen = sandbox.counts()
    pushed = sum(1 for s in shipments if s.tracking_pushed)
    checks = {
        "every_order_imported": len(found) == len(expected),
        "every_order_finished": all(d.order.status in DONE_STATUSES for d in found),
        "expected_outcomes": _outcomes_match(found, expected),
        "one_charge_per_completed_order": len(charges) == completed == seen["charges"],
        "one_tracking_push_per_completed_order": pushed == completed == seen["tracking_pushes"],
        "purchase_orders_match_warehouses": len(pos) == seen["purchase_orders"],
        "charged_amounts_match_stripe": money["charged_cents"] == seen["charged_cents"],
        "no_duplicate_effects": seen["duplicate_effects"] == 0,
    }
    return DemoReport(
        orders=len(expected),
        by_status=dict(sorted(by_status.items())),
        held_reasons=dict(sorted(held.items())),
        rejected_reasons=dict(sorted(rejected.items())),
        charges=len(charges),
        purchase_orders_by_warehouse=dict(sorted(Counter(po.supplier for po in pos).items())),
        purchase_orders_by_buyer_region={
            region: dict(sorted(counts.items())) for region, counts in sorted(by_region.items())
        },
        shipments=len(shipments),
        tracking_pushed=pushed,
        money=money,
        sandbox=seen,
        checks=checks,
        database=(
            db.engine.url.database or ""
            if db.engine.url.get_backend_name() == "sqlite"
            else db.engine.url.render_as_string(hide_password=True)
        ),
        config=config,
        seconds=seconds,
        pipeline_seconds=pipeline_seconds,
    )


def _outcomes_match(found: list[OrderDetail], expected: dict[tuple[str, str], str]) -> bool:
    """Every ordinary order completed; every problem order ended with its reason."""
    outcome = {
        (d.order.channel, d.order.external_id): (
            "completed" if d.order.status == "completed" else d.order.hold_reason or ""
        )
        for d in found
    }
    return outcome == expected


# -- running ---------------------------------------------------------------------------

ProgressCallback = Callable[[int, int], None]
"""Called with (orders finished, orders placed) while the pipeline runs."""


@dataclass(frozen=True)
class ConsoleAccess:
    """Where the demo's console is and how to sign in to it."""

    url: str
    username: str
    password: str
    held: int
    """Orders placed for the console phase, each held until someone clicks Send."""
    sandbox: Sandbox = field(repr=False, compare=False)
    """The running imitations, for tests that check what they saw."""


CONSOLE_HELD_ORDERS = 3
"""Orders ``fbs demo --console`` places after the report, held for a click on Send."""

ConsoleCallback = Callable[["DemoReport", ConsoleAccess], None]


def run_demo(
    settings: DemoSettings,
    on_progress: ProgressCallback | None = None,
    *,
    keep_console: ConsoleCallback | None = None,
    stop: threading.Event | None = None,
) -> DemoReport:
    """Run the whole demo and return its report; the config folder is kept.

    With ``keep_console``, the sandbox and the console keep running after the report
    (handed to ``keep_console`` with the console's address and a demo user) until
    SIGINT/SIGTERM or ``stop`` is set.

    Raises:
        DemoFailed: the orders did not all finish within ``settings.time_limit``; the
            message names the unfinished orders and what each is waiting for.
        ValueError: ``settings.orders`` is too small for the demo's mix of orders.
    """
    started = time.monotonic()
    from_env = os.environ.get(DATABASE_URL_ENV)
    if from_env and from_env != settings.database_url:
        raise DemoFailed(
            f"{DATABASE_URL_ENV} is set and would take the place of the demo's database; "
            "unset it for the demo (which writes its own SQLite file), or name the "
            f'database with --database-url "${DATABASE_URL_ENV}" to run the demo on it'
        )
    planned = plan_orders(settings.orders, settings.seed)
    folder = settings.folder or Path(tempfile.mkdtemp(prefix="fbs-demo-"))
    merchant_id = MERCHANT_ID
    if settings.database_url is not None:
        merchant_id = f"{MERCHANT_ID}-{secrets.token_hex(4)}"
    sandbox = Sandbox.start(settings.ship_delay_seconds, settings.channels)
    try:
        config = write_config(folder, sandbox, settings, merchant_id)
        expected = place_orders(sandbox.stores, planned)
        cli = CliContext(config)
        try:
            try:
                db = open_database(cli, create=True)
            except SQLAlchemyError as exc:
                shown = make_url(cli.settings().database_url).render_as_string(hide_password=True)
                reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                raise DemoFailed(f"cannot open the database {shown}: {reason}") from None
            try:
                engine = Engine(cli.runtime(), db)
                pipeline_started = time.monotonic()
                _run_engine(engine, db, len(expected), settings, on_progress, merchant_id)
                pipeline_seconds = time.monotonic() - pipeline_started
                report = build_report(
                    db,
                    sandbox,
                    expected,
                    config=config,
                    seconds=time.monotonic() - started,
                    pipeline_seconds=pipeline_seconds,
                    merchant_id=merchant_id,
                )
                if keep_console is not None:
                    _serve_console(
                        folder, sandbox, settings, merchant_id, report, keep_console, stop
                    )
                return report
            finally:
                db.dispose()
        finally:
            cli.close()
    finally:
        sandbox.stop()


def _serve_console(
    folder: Path,
    sandbox: Sandbox,
    settings: DemoSettings,
    merchant_id: str,
    report: DemoReport,
    on_ready: ConsoleCallback,
    stop: threading.Event | None,
) -> None:
    """Keep the sandbox running under the console, with a few orders held for approval.

    The config is rewritten in manual mode (each new order waits for Send) and a demo
    owner is added with a random password; the scheduler runs until SIGINT/SIGTERM or
    ``stop``.
    """
    from fbs_core.console.console_serve import build_console
    from fbs_core.console.console_users import Role, add_user
    from fbs_core.db.types import utcnow
    from fbs_core.server import WebhookServer

    config = write_config(folder, sandbox, settings, merchant_id, mode="manual")
    cli = CliContext(config)
    db = open_database(cli)
    server = None
    try:
        engine = Engine(cli.runtime(), db)
        password = secrets.token_urlsafe(12)
        with db.transaction() as session:
            add_user(session, merchant_id, merchant_id, Role.owner, password, utcnow())
        ordinary = [o for o in plan_orders(12, settings.seed + 1) if o.expect == "completed"]
        place_orders(sandbox.stores, ordinary[:CONSOLE_HELD_ORDERS])
        server = WebhookServer(build_console(cli.settings(), db, engine.runtime), "127.0.0.1", 0)
        server.start()
        access = ConsoleAccess(
            url=server.url,
            username=merchant_id,
            password=password,
            held=CONSOLE_HELD_ORDERS,
            sandbox=sandbox,
        )
        run_until_signalled(
            engine,
            settings.tick_seconds,
            on_start=lambda: on_ready(report, access),
            stop_event=stop,
        )
    finally:
        if server is not None:
            server.stop()
        db.dispose()
        cli.close()


def _run_engine(
    engine: Engine,
    db: Database,
    total: int,
    settings: DemoSettings,
    on_progress: ProgressCallback | None,
    merchant_id: str = MERCHANT_ID,
) -> None:
    """Tick the engine with the real scheduler until every order is done or time is up.

    APScheduler warns each time a tick is skipped because the previous one is still
    draining; with the demo's short period that is expected, so those warnings are muted
    for the run.
    """
    apscheduler_log = logging.getLogger("apscheduler")
    previous_level = apscheduler_log.level
    apscheduler_log.setLevel(logging.ERROR)
    stop = threading.Event()
    loop = threading.Thread(
        target=run_until_signalled,
        args=(engine, settings.tick_seconds),
        kwargs={"stop_event": stop},
        name="fbs-demo-scheduler",
        daemon=True,
    )
    loop.start()
    deadline = time.monotonic() + settings.time_limit
    try:
        while True:
            done, open_commands = _progress(db, merchant_id)
            if on_progress is not None:
                on_progress(done, total)
            if done >= total and open_commands == 0:
                return
            if time.monotonic() > deadline:
                raise DemoFailed(_stuck_message(db, total, done, settings.time_limit, merchant_id))
            time.sleep(0.1)
    finally:
        stop.set()
        loop.join()
        engine.stop()
        apscheduler_log.setLevel(previous_level)


def _progress(db: Database, merchant_id: str) -> tuple[int, int]:
    """(orders in a done status, outbox commands still pending or running)."""
    with db.transaction() as session:
        counts = repo.count_by_status(session, merchant_id)
        open_commands = repo.count_open_commands(session, merchant_id)
    return sum(n for status, n in counts.items() if status in DONE_STATUSES), open_commands


def _stuck_message(db: Database, total: int, done: int, limit: float, merchant_id: str) -> str:
    """Name each unfinished order (up to 20) and the commands it is waiting for."""
    lines = [f"the demo did not finish within {limit:g} s: {done} of {total} orders finished"]
    with db.transaction() as session:
        orders = repo.list_orders(session, merchant_id)
        stuck = [o for o in orders if o.status not in DONE_STATUSES]
        imported = len(orders)
        for order in stuck[:20]:
            detail = repo.order_detail(session, merchant_id, order.id)
            waiting = [
                f"{c.kind} {c.status} after {c.attempts} attempt(s)"
                + (f" ({c.last_error})" if c.last_error else "")
                for c in (detail.commands if detail else [])
                if c.status in ("pending", "running")
            ]
            lines.append(
                f"order {order.id} (store #{order.external_id}) is {order.status.value}"
                + (f"; waiting for {'; '.join(waiting)}" if waiting else "; no command queued")
            )
        if len(stuck) > 20:
            lines.append(f"... and {len(stuck) - 20} more")
        if imported < total:
            lines.append(f"only {imported} of {total} orders were imported from the store")
        for state in repo.list_instance_states(session, merchant_id):
            if state.last_error:
                lines.append(f"{state.kind} {state.name}: last poll failed: {state.last_error}")
    return "\n".join(lines)
