"""Cancellation: stop what has not started, ask warehouses to stop the rest, refund."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..db import repository as repo
from ..domain import OrderStatus
from ..domain.po_lifecycle import PurchaseOrderEvent
from . import transitions as t
from .command_payloads import CancelPurchaseOrderPayload
from .context import PipelineContext
from .money import cores_cents, enqueue_refund, goods_cents
from .po_transitions import move_po
from .progress import finish_cancellation_if_settled

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..db.models import OrderRow, OutboxCommandRow, PurchaseOrderRow

STOPPABLE = ("source", "charge", "place_po", "acknowledge")


def cancel_order(
    ctx: PipelineContext, session: Session, order: OrderRow, *, actor: str, reason: str
) -> None:
    """Cancel an order at whatever stage it is.

    Before a purchase order is sent the charge is voided (never made) or refunded; after,
    each warehouse is asked to cancel, and what it cancels is refunded. Commands already
    running finish and see ``cancel_requested`` when their results are recorded.
    """
    if OrderStatus(order.status).is_final:
        return
    order.cancel_requested = True
    t.record(ctx, session, order, "cancel_requested", reason, actor=actor)
    for command in repo.commands_for(session, order.id, statuses=("pending", "failed")):
        if command.kind not in STOPPABLE:
            continue
        if _outcome_unknown(ctx, session, command):
            # Sent at least once with no answer recorded: ask again with the same key so
            # the remote tells what it did; the result is undone when it is recorded.
            command.status = "pending"
            command.next_attempt_at = ctx.now()
            continue
        command.status = "cancelled"
        command.updated_at = ctx.now()
        _void_effect(ctx, session, command.kind, command.idempotency_key, command.payload)
    for po in repo.purchase_orders_for(session, order.id):
        if po.status in ("placed", "partially_shipped"):
            request_po_cancel(ctx, session, order, po)
        elif po.status in ("failed", "cancelled"):
            # never sent, or refused by the warehouse: all of its money goes back
            move_po(ctx, po, PurchaseOrderEvent.voided)
            refund_unsent_po(ctx, session, order, po)
    finish_cancellation_if_settled(ctx, session, order)


def _outcome_unknown(ctx: PipelineContext, session: Session, command: OutboxCommandRow) -> bool:
    """A charge or purchase order that was sent but whose result was never recorded."""
    if command.attempts == 0:
        return False
    if command.kind == "charge":
        charge = repo.charge_by_key(session, ctx.merchant_id, command.idempotency_key)
        return charge is not None and charge.status == "pending"
    if command.kind == "place_po":
        po = repo.purchase_order_by_number(
            session, ctx.merchant_id, str(command.payload["po_number"])
        )
        return po is not None and po.status == "pending"
    return False


def _void_effect(
    ctx: PipelineContext, session: Session, kind: str, key: str, payload: dict[str, object]
) -> None:
    if kind == "charge":
        charge = repo.charge_by_key(session, ctx.merchant_id, key)
        if charge is not None and charge.status == "pending":
            charge.status = "cancelled"
    elif kind == "place_po":
        po = repo.purchase_order_by_number(session, ctx.merchant_id, str(payload["po_number"]))
        if po is not None and po.status in ("pending", "failed"):
            move_po(ctx, po, PurchaseOrderEvent.voided)


def request_po_cancel(
    ctx: PipelineContext, session: Session, order: OrderRow, po: PurchaseOrderRow
) -> None:
    """Ask the warehouse to stop a purchase order it has accepted."""
    move_po(ctx, po, PurchaseOrderEvent.cancel_asked)
    t.enqueue(
        ctx,
        session,
        order,
        target=po.supplier,
        key=f"cancel:{po.po_number}",
        payload=CancelPurchaseOrderPayload(po_number=po.po_number),
    )


def refund_unsent_po(
    ctx: PipelineContext, session: Session, order: OrderRow, po: PurchaseOrderRow
) -> None:
    """Refund everything charged for a purchase order that never reached the warehouse."""
    enqueue_refund(
        ctx,
        session,
        order,
        key=f"refund:{po.po_number}",
        amount_cents=goods_cents(po) + po.shipping_cents + po.tax_cents,
        core_charges_cents=cores_cents(po),
        reason=f"Purchase order {po.po_number} was never sent: order cancelled.",
    )
