"""State changes of an order, each recorded on its timeline in the same transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..db import repository as repo
from ..db.models import OrderRow, OutboxCommandRow
from ..domain import Money, OrderStatus
from ..domain.lifecycle import OrderEvent, next_status
from .command_payloads import CommandPayload, NotifyPayload
from .context import PipelineContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

NOT_OVERRIDABLE = frozenset({"missing_address_fields", "invalid_postal_code", "invalid_region"})
"""Hold reasons approval cannot skip: the address must be fixed on the channel first."""


def record(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    event: str,
    message: str = "",
    *,
    actor: str = "system",
    data: dict[str, Any] | None = None,
) -> None:
    """Append a timeline event and, if a plugin listens for it, a notify command."""
    now = ctx.now()
    order.updated_at = now
    session.flush()  # the order needs its id before events can point at it
    event_row = repo.add_event(
        session, order, event, message=message, actor=actor, data=data, at=now
    )
    if event in ctx.notified_events():
        session.flush()
        enqueue(
            ctx,
            session,
            order,
            target=event,
            key=f"notify:{event_row.id}",
            payload=NotifyPayload(event_id=event_row.id, event=event),
        )


def fire(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    event: OrderEvent,
    message: str = "",
    *,
    timeline_event: str | None = None,
    actor: str = "system",
    data: dict[str, Any] | None = None,
) -> OrderStatus:
    """Apply ``event`` to an order as the transition table says, and record it.

    This is the only place an order's status changes. An event the table marks as one
    that may arrive late leaves the status as it is and is still recorded; an illegal
    one raises :class:`~fbs_core.domain.lifecycle.IllegalTransition`.
    """
    current = OrderStatus(order.status)
    held_from = OrderStatus(order.held_from) if order.held_from else None
    status = next_status(current, event, held_from=held_from)
    if status is OrderStatus.held and current is not OrderStatus.held:
        order.held_from = current
    order.status = status
    if status is not OrderStatus.held and status is not OrderStatus.rejected:
        order.hold_reason = None
        order.hold_message = None
    if event is OrderEvent.resumed or event is OrderEvent.modified_upstream:
        order.held_from = None
    record(ctx, session, order, timeline_event or event.value, message, actor=actor, data=data)
    return status


STATUS_EVENTS: dict[OrderStatus, OrderEvent] = {
    OrderStatus.approved: OrderEvent.passed_review,
    OrderStatus.sourced: OrderEvent.sourced,
    OrderStatus.charged: OrderEvent.charged,
    OrderStatus.ordered: OrderEvent.all_ordered,
    OrderStatus.partially_shipped: OrderEvent.parcel_shipped,
    OrderStatus.shipped: OrderEvent.all_shipped,
    OrderStatus.completed: OrderEvent.completed,
    OrderStatus.cancelled: OrderEvent.cancelled,
}
"""The event each forward step of the pipeline is, named by the status it leads to."""


def set_status(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    status: OrderStatus,
    message: str = "",
    *,
    event: str | None = None,
    actor: str = "system",
    data: dict[str, Any] | None = None,
) -> OrderStatus:
    """Take the pipeline step that leads to ``status``; return where the order now is.

    The table decides: a step that arrives after the order moved on (an acceptance
    recorded after the parcel shipped) leaves the order where it is.
    """
    return fire(
        ctx,
        session,
        order,
        STATUS_EVENTS[status],
        message,
        timeline_event=event or status.value,
        actor=actor,
        data=data,
    )


def resume(
    ctx: PipelineContext, session: Session, order: OrderRow, message: str, *, actor: str
) -> OrderStatus:
    """Send a held order back to the status it was held from."""
    return fire(ctx, session, order, OrderEvent.resumed, message, actor=actor)


def hold(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    reason: str,
    message: str,
    *,
    actor: str = "system",
) -> None:
    """Hold an order with a reason code and a sentence the merchant understands.

    An order never rests with money taken unless its hold says so: when the card was
    charged and not wholly refunded, and the message does not already give that amount,
    it ends with the amount and what to do.
    """
    kept = money_kept_cents(session, order)
    amount = Money(cents=kept, currency=order.currency)
    if kept > 0 and amount.to_decimal_string() not in message:
        message = (
            f"{message.rstrip('.')}. {amount.to_decimal_string()} {amount.currency} is charged "
            "to your card for this order: approve or retry to go on, or cancel to refund it."
        )
    data = {"reason": reason, **({"money_kept_cents": kept} if kept > 0 else {})}
    fire(ctx, session, order, OrderEvent.held, message, actor=actor, data=data)
    order.hold_reason = reason
    order.hold_message = message


def money_kept_cents(session: Session, order: OrderRow) -> int:
    """What the card was charged for this order, less every refund paid or on its way."""
    return sum(
        max(charge.amount_cents - repo.refund_asked_cents(session, charge.id), 0)
        for charge in repo.charges_for(session, order.id)
        if charge.status == "succeeded"
    )


def reject(
    ctx: PipelineContext, session: Session, order: OrderRow, reason: str, message: str
) -> None:
    """Refuse an order for good (fbs will never fulfil it), keeping the reason."""
    fire(ctx, session, order, OrderEvent.rejected, message, data={"reason": reason})
    order.hold_reason = reason
    order.hold_message = message


def reopen(
    ctx: PipelineContext, session: Session, order: OrderRow, message: str, *, actor: str
) -> None:
    """Take an order the channel changed before money was taken back to review."""
    fire(ctx, session, order, OrderEvent.modified_upstream, message, actor=actor)


def enqueue(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow | None,
    *,
    target: str,
    key: str,
    payload: CommandPayload,
    delay: timedelta | None = None,
) -> OutboxCommandRow:
    """Write an outbox command in the current transaction; an existing key is kept as is.

    The command's kind is its payload's.
    """
    for pending in session.new:  # written earlier in this same transaction
        if isinstance(pending, OutboxCommandRow) and pending.idempotency_key == key:
            return pending
    with session.no_autoflush:  # the lookup needs rows already committed, not a flush
        existing = repo.command_by_key(session, ctx.merchant_id, key)
    if existing is not None:
        return existing
    now = ctx.now()
    row = OutboxCommandRow(
        merchant_id=ctx.merchant_id,
        order_id=order.id if order is not None else None,
        kind=payload.kind,
        target=target,
        idempotency_key=key,
        payload=payload.stored(),
        status="pending",
        attempts=0,
        next_attempt_at=now + delay if delay else now,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    return row
