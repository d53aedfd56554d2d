"""Review: decide whether a new (or changed) order is rejected, held, or sent on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..domain import OrderStatus
from ..sourcing.destinations import check_destination
from . import transitions as t
from .command_payloads import AcknowledgePayload, SourcePayload
from .context import PipelineContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..db.models import OrderRow
    from ..domain import Order

ACK_MESSAGE = "Drop-ship fulfillment started."


def problems_with_lines(order: Order, max_lines: int) -> tuple[str, str] | None:
    """Return (reason, sentence) for lines fbs can never fulfil, else None."""
    if not order.lines:
        return "no_lines", "The order has no lines to fulfil."
    if len(order.lines) > max_lines:
        return (
            "order_too_large",
            f"The order has {len(order.lines)} lines; fbs accepts at most {max_lines}.",
        )
    for position, line in enumerate(order.lines, start=1):
        if not line.sku.strip():
            return (
                "missing_sku",
                f"Line {position} ({line.title or line.line_id}) has no part number.",
            )
        if line.quantity <= 0:
            return (
                "invalid_quantity",
                f"Line {position} ({line.sku}) has quantity {line.quantity}; it must be at least 1.",
            )
    return None


def review(ctx: PipelineContext, session: Session, row: OrderRow, order: Order) -> None:
    """Reject, hold or approve an order that is in ``received``.

    Approval enqueues sourcing (a new generation, so a stale sourcing run for an older
    version of the order is ignored) and, once per order, the channel acknowledgement.
    """
    rules = ctx.rules
    line_problem = problems_with_lines(order, rules.max_lines)
    if line_problem:
        t.reject(ctx, session, row, *line_problem)
        return
    destination = check_destination(order.ship_to, rules)
    if destination is not None:
        if destination.final:
            t.reject(ctx, session, row, destination.reason, destination.message)
        else:
            t.hold(ctx, session, row, destination.reason, destination.message)
        return
    if rules.mode == "manual":
        t.hold(
            ctx,
            session,
            row,
            "manual_review",
            "Waiting for your approval: the store is in manual mode.",
        )
        return
    value = order.items_value
    if rules.hold_above_cents is not None and value.cents > rules.hold_above_cents:
        limit = type(value)(cents=rules.hold_above_cents, currency=value.currency)
        t.hold(
            ctx,
            session,
            row,
            "above_threshold",
            f"The parts are worth {value}, above your approval limit of {limit}.",
        )
        return
    approve(ctx, session, row, message="Passed review.")


def approve(
    ctx: PipelineContext, session: Session, row: OrderRow, *, message: str, actor: str = "system"
) -> None:
    """Send an order on to sourcing."""
    t.set_status(ctx, session, row, OrderStatus.approved, message, actor=actor)
    enqueue_sourcing(ctx, session, row)
    if ctx.acknowledges(row.channel):
        t.enqueue(
            ctx,
            session,
            row,
            target=row.channel,
            key=f"ack:{row.id}",
            payload=AcknowledgePayload(external_id=row.external_id, message=ACK_MESSAGE),
        )


def enqueue_sourcing(
    ctx: PipelineContext,
    session: Session,
    row: OrderRow,
    *,
    resource_po: str | None = None,
    exclude: Sequence[str] = (),
    absorb: bool = False,
) -> None:
    """Start a new sourcing run for the order (earlier runs become stale)."""
    row.source_generation += 1
    t.enqueue(
        ctx,
        session,
        row,
        target="sourcing",
        key=f"source:{row.id}:{row.source_generation}",
        payload=SourcePayload(
            generation=row.source_generation,
            resource_po=resource_po,
            exclude=tuple(exclude),
            absorb=absorb,
        ),
    )
