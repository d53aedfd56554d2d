"""State changes of an order, each recorded on its timeline in the same transaction."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..db import repository as repo
from ..db.models import OrderRow, OutboxCommandRow
from ..domain import OrderStatus
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
            kind="notify",
            target=event,
            key=f"notify:{event_row.id}",
            payload={"event_id": event_row.id, "event": event},
        )


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
) -> None:
    """Move an order to ``status`` and record why."""
    order.status = status
    if status is not OrderStatus.held:
        order.hold_reason = None
        order.hold_message = None
    record(ctx, session, order, event or status.value, message, actor=actor, data=data)


def hold(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    reason: str,
    message: str,
    *,
    actor: str = "system",
) -> None:
    """Hold an order with a reason code and a sentence the merchant understands."""
    if order.status != OrderStatus.held:
        order.held_from = order.status
    order.status = OrderStatus.held
    order.hold_reason = reason
    order.hold_message = message
    record(ctx, session, order, "held", message, actor=actor, data={"reason": reason})


def reject(
    ctx: PipelineContext, session: Session, order: OrderRow, reason: str, message: str
) -> None:
    """Refuse an order for good (fbs will never fulfil it), keeping the reason."""
    order.status = OrderStatus.rejected
    order.hold_reason = reason
    order.hold_message = message
    record(ctx, session, order, "rejected", message, data={"reason": reason})


def enqueue(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow | None,
    *,
    kind: str,
    target: str,
    key: str,
    payload: dict[str, Any],
    delay: timedelta | None = None,
) -> OutboxCommandRow:
    """Write an outbox command in the current transaction; an existing key is kept as is."""
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
        kind=kind,
        target=target,
        idempotency_key=key,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=now + delay if delay else now,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    return row
