"""``fbs demo``: run the real plugins end to end against local imitations.

The work is done by :mod:`fbs_sandbox.demo` (the ``fbs-sandbox`` distribution); this
module parses options, shows progress on stderr and prints the summary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..domain import Money
from ..errors import UserError

if TYPE_CHECKING:
    from fbs_sandbox.demo import ConsoleAccess, DemoReport

FAILED_EXIT = 1
DEMO_BACKENDS = ("sqlite", "postgresql")
"""Databases fbs supports, and so the demo."""


@click.command("demo")
@click.option(
    "--orders",
    type=click.IntRange(min=4, max=5000),
    default=25,
    show_default=True,
    help="Orders to place on the store (a few of them must be held or rejected).",
)
@click.option(
    "--seed", type=int, default=None, help="Seed for the orders (same seed, same orders)."
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=1),
    default=120.0,
    show_default=True,
    help="Seconds the orders may take before the demo fails and shows what is stuck.",
)
@click.option(
    "--ship-delay",
    type=click.FloatRange(min=0, max=60),
    default=1.0,
    show_default=True,
    help="Seconds the warehouses take to ship (Newark half of it, Reno one and a half times).",
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the demo's fbs.toml and fbs.db (default: a new temporary folder).",
)
@click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help="Run on this database instead of a new SQLite file, e.g. "
    "postgresql://user@127.0.0.1:5432/fbs_demo (each run is a merchant of its own there).",
)
@click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="TYPE",
    help="A store to sell on: woocommerce (the default), shopify or ebay; repeat it for "
    "one store of each, sharing the orders.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a summary.")
@click.option(
    "--console",
    "with_console",
    is_flag=True,
    help="Afterwards keep the sandbox running under the merchant console, with a few "
    "orders held for you to Send; prints its URL and a demo user's password. Ctrl-C stops.",
)
def command(
    orders: int,
    seed: int | None,
    time_limit: float,
    ship_delay: float,
    folder: Path | None,
    database_url: str | None,
    channels: tuple[str, ...],
    as_json: bool,
    with_console: bool,
) -> None:
    """Run fbs end to end on 127.0.0.1: a store, Stripe and three warehouses.

    Uses the installed channel, stripe and http plugins and the real scheduler; the
    generated fbs.toml and its SQLite file (or the --database-url database) are kept for
    'fbs orders list --config ...'. FBS_DATABASE_URL is refused unless --database-url
    names the same database.
    """
    if database_url is not None and _backend(database_url) not in DEMO_BACKENDS:
        raise click.BadParameter(
            f"{database_url!r} is not a database the demo can use; give a "
            "postgresql://user@host:5432/name or sqlite:///path URL",
            param_hint="--database-url",
        )
    try:
        from fbs_sandbox.demo import DEFAULT_SEED, DemoFailed, DemoSettings, run_demo
        from fbs_sandbox.demo_stores import demo_channel_types
    except ImportError as exc:
        raise UserError(
            f"fbs demo needs the fbs-sandbox distribution ({exc}); install it with "
            "'pip install fbs-sandbox'"
        ) from None
    chosen = tuple(dict.fromkeys(channels)) or ("woocommerce",)
    unknown = [kind for kind in chosen if kind not in demo_channel_types()]
    if unknown:
        raise click.BadParameter(
            f"{unknown[0]!r} has no demo store; choose from {', '.join(demo_channel_types())}",
            param_hint="--channel",
        )
    if folder is not None and folder.exists() and any(folder.iterdir()):
        raise UserError(f"{folder}: the demo folder must be empty or not exist yet")
    settings = DemoSettings(
        orders=orders,
        seed=DEFAULT_SEED if seed is None else seed,
        time_limit=time_limit,
        folder=folder,
        ship_delay_seconds=ship_delay,
        database_url=database_url,
        channels=chosen,
    )
    stderr = Console(stderr=True)
    bar = Progress(
        TextColumn("orders finished"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
    )
    shown: list[DemoReport] = []

    def console_ready(report: DemoReport, access: ConsoleAccess) -> None:
        bar.stop()
        _print_report(report, as_json=as_json)
        shown.append(report)
        click.echo(
            f"\nmerchant console: {access.url}\n"
            f"  sign in as {access.username} with password {access.password}\n"
            f"  {access.held} new orders are held for approval (manual mode): open Held, "
            "click one, then Send, and watch it go through. Ctrl-C stops the demo.",
            err=True,
        )

    with bar:
        task = bar.add_task("orders", total=orders)
        try:
            report = run_demo(
                settings,
                lambda done, total: bar.update(task, completed=done),
                keep_console=console_ready if with_console else None,
            )
        except DemoFailed as exc:
            bar.stop()
            for line in str(exc).splitlines():
                click.echo(f"error: {line}", err=True)
            raise click.exceptions.Exit(FAILED_EXIT) from None
        except ValueError as exc:
            raise UserError(str(exc)) from None
    if not shown:
        _print_report(report, as_json=as_json)
    if report.failed_checks:
        click.echo(f"error: demo checks failed: {', '.join(report.failed_checks)}", err=True)
        raise click.exceptions.Exit(FAILED_EXIT)


def _print_report(report: DemoReport, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_summary(report)


def _backend(url: str) -> str:
    """``postgresql`` for ``postgresql+psycopg://...``: the URL's scheme without a driver."""
    return urlsplit(url).scheme.split("+", 1)[0].lower()


def _usd(cents: int) -> str:
    return str(Money(cents=cents, currency="USD"))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "-"


def _print_summary(report: DemoReport) -> None:
    status = report.by_status
    money = report.money
    seen: dict[str, Any] = report.sandbox
    rows = [
        ("imported", str(sum(status.values())), f"of {report.orders} placed on the store"),
        ("held", str(status.get("held", 0)), _counts(report.held_reasons)),
        ("rejected", str(status.get("rejected", 0)), _counts(report.rejected_reasons)),
        (
            "charged",
            str(report.charges),
            f"{_usd(money['charged_cents'])} = parts {_usd(money['parts_cents'])}"
            f" + cores {_usd(money['core_charges_cents'])}"
            f" + shipping {_usd(money['shipping_cents'])} + tax {_usd(money['tax_cents'])}",
        ),
        ("refunded", "", _usd(money["refunded_cents"])),
        (
            "purchase orders",
            str(sum(report.purchase_orders_by_warehouse.values())),
            _counts(report.purchase_orders_by_warehouse),
        ),
        ("shipped", str(report.shipments), "parcels"),
        ("tracking pushed", str(report.tracking_pushed), "to the store's orders"),
        ("completed", str(status.get("completed", 0)), ""),
    ]
    click.echo(
        f"fbs demo: {report.orders} orders in {report.seconds:.1f} s "
        f"(pipeline {report.pipeline_seconds:.1f} s)"
    )
    for label, count, detail in rows:
        click.echo(f"  {label:<16}{count:>5}  {detail}".rstrip())
    click.echo("  warehouse chosen, by the warehouse nearest the buyer:")
    for region, counts in report.purchase_orders_by_buyer_region.items():
        click.echo(f"    buyers nearest {region:<8} {_counts(counts)}")
    click.echo(
        f"  the imitations saw: {seen['charges']} charges, {seen['refunds']} refunds, "
        f"{seen['purchase_orders']} purchase orders, {seen['tracking_pushes']} tracking pushes, "
        f"{seen['duplicate_effects']} duplicate effects"
    )
    failed = report.failed_checks
    click.echo(
        f"  checks: all {len(report.checks)} passed"
        if not failed
        else f"  checks: FAILED {', '.join(failed)}"
    )
    click.echo(f"  config:   {report.config}")
    click.echo(f"  database: {report.database}")
    click.echo(f"  inspect:  fbs orders list --config {report.config}")
