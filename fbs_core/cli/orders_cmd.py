"""``fbs orders``: inspect and act on orders."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from ..errors import UserError
from .context import CliContext
from .database import open_database

if TYPE_CHECKING:
    from ..domain.views import OrderDetail

DEFAULT_LIMIT = 50
"""``fbs orders list`` shows this many of the newest orders unless told otherwise."""

ORDER_STATUSES = (
    "received",
    "held",
    "approved",
    "sourced",
    "charged",
    "ordered",
    "partially_shipped",
    "shipped",
    "completed",
    "cancelled",
    "rejected",
)
"""The values of :class:`fbs_core.domain.OrderStatus`, spelled out so ``--help`` imports nothing."""


@click.group("orders")
def command() -> None:
    """List, inspect, approve, cancel and retry orders."""


def _money(cents: int, currency: str = "USD") -> str:
    from ..domain import Money

    return str(Money(cents=cents, currency=currency))


def order_summary(order: Any) -> dict[str, Any]:
    """The JSON object ``fbs orders list --json`` prints for one order."""
    return {
        "id": order.id,
        "channel": order.channel,
        "external_id": order.external_id,
        "number": order.number,
        "status": order.status.value,
        "hold_reason": order.hold_reason,
        "hold_message": order.hold_message,
        "items_cents": order.items_value.cents,
        "currency": order.currency,
        "ship_by": order.ship_by.isoformat() if order.ship_by else None,
        "created_at": order.created_at.isoformat(),
        "updated_at": order.updated_at.isoformat(),
    }


@command.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(ORDER_STATUSES),
    help="Only orders in this status (repeatable).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMIT,
    show_default=True,
    help="At most this many, newest first.",
)
@click.option("--all", "show_all", is_flag=True, help="Every order, however many.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
def list_command(
    obj: CliContext, statuses: tuple[str, ...], limit: int, show_all: bool, as_json: bool
) -> None:
    """List orders, newest first: the newest 50 unless --limit N or --all.

    Below the table a line says how many orders there are in all.
    """
    from rich.table import Table

    from ..db import repository as repo

    merchant_id = obj.settings().merchant_id
    db = open_database(obj)
    try:
        with db.transaction() as session:
            orders = repo.list_orders(
                session, merchant_id, statuses=statuses, limit=None if show_all else limit
            )
            counts = repo.count_by_status(session, merchant_id)
    finally:
        db.dispose()
    total = sum(n for status, n in counts.items() if not statuses or status in statuses)
    if as_json:
        click.echo(json.dumps([order_summary(order) for order in orders], indent=2))
        return
    table = Table(
        "id", "channel", "number", "status", "parts", "ship by", "why held / rejected", "updated"
    )
    for order in orders:
        table.add_row(
            str(order.id),
            order.channel,
            order.number,
            order.status.value,
            str(order.items_value),
            order.ship_by.strftime("%Y-%m-%d %H:%M") if order.ship_by else "",
            order.hold_message or "",
            order.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    if orders:
        obj.console.print(table)
    which = f" with status {', '.join(statuses)}" if statuses else ""
    if not orders:
        click.echo(f"no orders{which}")
    elif len(orders) < total:
        click.echo(
            f"showing the newest {len(orders)} of {total} orders{which}; "
            "--limit N or --all for more"
        )
    else:
        click.echo(f"{total} orders{which}" if total != 1 else f"1 order{which}")


def _detail(obj: CliContext, order_id: int) -> OrderDetail:
    from ..db import repository as repo

    db = open_database(obj)
    try:
        with db.transaction() as session:
            detail = repo.order_detail(session, obj.settings().merchant_id, order_id)
    finally:
        db.dispose()
    if detail is None:
        raise UserError(f"there is no order {order_id}")
    return detail


@command.command("show")
@click.argument("order_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
@click.pass_obj
def show_command(obj: CliContext, order_id: int, as_json: bool) -> None:
    """Show one order: lines, plan, money, purchase orders, shipments, timeline."""
    detail = _detail(obj, order_id)
    if as_json:
        click.echo(detail.model_dump_json(indent=2))
        return
    _print_detail(obj, detail)


def _print_detail(obj: CliContext, detail: OrderDetail) -> None:
    from rich.table import Table

    console = obj.console
    order = detail.order
    console.print(
        f"[bold]Order {order.id}[/bold]  {order.channel} {order.number} ({order.external_id})"
    )
    console.print(f"status: [bold]{order.status.value}[/bold]")
    if order.hold_reason:
        console.print(f"reason: {order.hold_reason}: {order.hold_message}")
    if order.ship_by:
        console.print(f"ship by: {order.ship_by.strftime('%Y-%m-%d %H:%M %Z')}")
    if order.ship_to:
        a = order.ship_to
        console.print(
            f"ship to: {a.name}, {a.line1}, {a.city}, {a.region} {a.postal_code}, {a.country}"
        )
    lines = Table(
        "line",
        "sku",
        "qty",
        "shipped",
        "cancelled",
        "still wanted",
        "buyer paid each",
        title="Lines",
    )
    for line in order.lines:
        lines.add_row(
            line.line_id,
            line.sku,
            str(line.quantity),
            str(line.shipped_quantity),
            str(line.cancelled_quantity),
            "" if line.upstream_quantity is None else str(line.upstream_quantity),
            str(line.unit_price),
        )
    console.print(lines)
    for plan in detail.plans:
        marker = "active" if plan.active else "replaced"
        console.print(
            f"plan {plan.generation} ({marker}): parts {_money(plan.parts_cents, plan.currency)}, "
            f"cores {_money(plan.core_charges_cents, plan.currency)}, shipping "
            f"{_money(plan.shipping_cents, plan.currency)}, tax {_money(plan.tax_cents, plan.currency)}, "
            f"total {_money(plan.total_cents, plan.currency)}"
        )
        console.print(f"  why: {plan.explanation}")
    if detail.charges or detail.refunds:
        money = Table("what", "key", "status", "amount", "cores", "reference", title="Money")
        for c in detail.charges:
            money.add_row(
                "charge",
                c.idempotency_key,
                c.status,
                _money(c.amount_cents, c.currency),
                _money(c.core_charges_cents, c.currency),
                c.reference or c.error or "",
            )
        for r in detail.refunds:
            money.add_row(
                "refund",
                r.idempotency_key,
                r.status,
                _money(r.amount_cents, r.currency),
                _money(r.core_charges_cents, r.currency),
                r.reference or r.reason,
            )
        console.print(money)
    if detail.purchase_orders:
        pos = Table(
            "po", "warehouse", "status", "lines", "shipping", "reference", title="Purchase orders"
        )
        for po in detail.purchase_orders:
            described = ", ".join(f"{line['quantity']}x {line['sku']}" for line in po.lines)
            pos.add_row(
                po.po_number,
                po.supplier,
                po.status,
                described,
                _money(po.shipping_cents, po.currency),
                po.supplier_reference or po.error or "",
            )
        console.print(pos)
    if detail.shipments:
        parcels = Table(
            "shipment", "warehouse", "carrier", "tracking", "on channel", title="Shipments"
        )
        for s in detail.shipments:
            parcels.add_row(
                s.shipment_id,
                s.supplier,
                s.carrier,
                s.tracking_number,
                "yes" if s.tracking_pushed else "no",
            )
        console.print(parcels)
    open_commands = [c for c in detail.commands if c.status in ("pending", "running", "failed")]
    if open_commands:
        steps = Table("step", "target", "status", "attempts", "last error", title="Steps in flight")
        for c in open_commands:
            steps.add_row(c.kind, c.target, c.status, str(c.attempts), c.last_error or "")
        console.print(steps)
    timeline = Table("when", "event", "status", "by", "what", title="Timeline")
    for event in detail.timeline:
        timeline.add_row(
            event.at.strftime("%Y-%m-%d %H:%M:%S"),
            event.event,
            event.status or "",
            event.actor,
            event.message,
        )
    console.print(timeline)


def _act(obj: CliContext, order_id: int, action: str) -> None:
    from ..pipeline import actions
    from ..pipeline.context import PipelineContext

    settings = obj.settings()
    runtime = obj.runtime()
    db = open_database(obj)
    try:
        ctx = PipelineContext(
            db=db,
            runtime=runtime,
            merchant_id=settings.merchant_id,
            rules=settings.fulfillment,
            scheduler=settings.scheduler,
        )
        outcome = {
            "approve": actions.approve_order,
            "retry": actions.retry_order,
            "cancel": actions.cancel,
        }[action](ctx, order_id)
    finally:
        db.dispose()
    click.echo(f"order {order_id}: {outcome}. 'fbs run' carries it out.")


@command.command("approve")
@click.argument("order_id", type=int)
@click.pass_obj
def approve_command(obj: CliContext, order_id: int) -> None:
    """Send a held order on (the merchant's click)."""
    _act(obj, order_id, "approve")


@command.command("cancel")
@click.argument("order_id", type=int)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def cancel_command(obj: CliContext, order_id: int, yes: bool) -> None:
    """Cancel an order: stop what has not started, cancel purchase orders, refund.

    At a terminal it first shows the order and asks; --yes skips the question (scripts
    without a terminal are never asked).
    """
    if not yes and sys.stdin.isatty():
        obj.runtime()  # a missing secret is reported before the question, not after
        order = _detail(obj, order_id).order
        click.confirm(
            f"Cancel order {order_id} ({order.channel} {order.number}, {order.status.value}, "
            f"parts {order.items_value})? Purchase orders are cancelled and charges refunded",
            default=False,
            abort=True,
        )
    _act(obj, order_id, "cancel")


@command.command("retry")
@click.argument("order_id", type=int)
@click.pass_obj
def retry_command(obj: CliContext, order_id: int) -> None:
    """Run again the step that held an order, or any step that failed."""
    _act(obj, order_id, "retry")
