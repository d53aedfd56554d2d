"""Where an order stands once parts are bought: shipped, completed or cancelled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..db import repository as repo
from ..domain import OrderStatus
from . import transitions as t
from .context import PipelineContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..db.models import OrderRow

WORK_KINDS = ("source", "charge", "place_po", "cancel_po")
"""Commands that can still change what an order will receive."""


def _quantities(order: OrderRow) -> tuple[int, int, int]:
    ordered = sum(max(line.quantity, 0) for line in order.lines)
    shipped = sum(line.shipped_quantity for line in order.lines)
    cancelled = sum(line.cancelled_quantity for line in order.lines)
    return ordered, shipped, cancelled


def fully_resolved(order: OrderRow) -> bool:
    """Every unit has either shipped or been cancelled."""
    return all(
        line.shipped_quantity + line.cancelled_quantity >= line.quantity for line in order.lines
    )


def update_shipping_status(
    ctx: PipelineContext, session: Session, order: OrderRow, message: str
) -> None:
    """Move an ordered order to partially_shipped or shipped after a parcel."""
    if OrderStatus(order.status).is_final or order.status == OrderStatus.held:
        return
    status = OrderStatus.shipped if fully_resolved(order) else OrderStatus.partially_shipped
    if order.status != status:
        # The "shipped" event belongs to each parcel; the status change has its own name.
        event = "all_shipped" if status is OrderStatus.shipped else status.value
        t.set_status(ctx, session, order, status, message, event=event)


def maybe_complete(ctx: PipelineContext, session: Session, order: OrderRow) -> None:
    """Complete (or cancel) an order once nothing about it is still in flight."""
    if OrderStatus(order.status).is_final:
        return
    for command in repo.commands_for(session, order.id, statuses=("pending", "running", "failed")):
        # a cancel the warehouse refused is settled: its purchase order goes on as it was
        settled = command.kind == "cancel_po" and command.status == "failed"
        if command.kind in (*WORK_KINDS, "push_tracking") and not settled:
            return
    _, shipped, _ = _quantities(order)
    if not order.lines or not fully_resolved(order):
        return
    if shipped == 0:
        t.set_status(ctx, session, order, OrderStatus.cancelled, "Nothing left to ship.")
        return
    if not all(s.tracking_pushed for s in repo.shipments_for(session, order.id)):
        return
    t.set_status(
        ctx,
        session,
        order,
        OrderStatus.completed,
        "Every part shipped and its tracking is on the channel.",
    )


def finish_cancellation_if_settled(ctx: PipelineContext, session: Session, order: OrderRow) -> None:
    """End a requested cancellation once no purchase, charge or cancel is still running."""
    if not order.cancel_requested or OrderStatus(order.status).is_final:
        return
    if any(
        c.kind in WORK_KINDS
        for c in repo.commands_for(session, order.id, statuses=("pending", "running"))
    ):
        return
    for line in order.lines:
        bought = _bought_quantity(session, order, line.line_id)
        remaining = line.quantity - line.shipped_quantity - line.cancelled_quantity
        unbought = max(line.quantity - bought, 0)
        line.cancelled_quantity += min(remaining, unbought)
    _, shipped, _ = _quantities(order)
    if shipped == 0 and all(
        po.status in ("cancelled", "failed", "pending")
        for po in repo.purchase_orders_for(session, order.id)
    ):
        t.set_status(ctx, session, order, OrderStatus.cancelled, "Cancelled; nothing had shipped.")
        return
    maybe_complete(ctx, session, order)


def _bought_quantity(session: Session, order: OrderRow, line_id: str) -> int:
    """Units of a line on purchase orders a warehouse accepted and did not cancel."""
    total = 0
    for po in repo.purchase_orders_for(session, order.id):
        if po.status in ("placed", "partially_shipped", "shipped", "cancel_requested"):
            for line in po.lines:
                if line.line_id == line_id:
                    total += line.quantity - line.cancelled_quantity
    return total
