"""What a merchant can do to an order: approve, retry, cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..db import repository as repo
from ..domain import OrderStatus
from ..errors import UserError
from . import transitions as t
from .cancellation import cancel_order
from .handlers.charging import enqueue_charge
from .handlers.purchasing import refused_by
from .review import approve as send_on
from .review import enqueue_sourcing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..db.models import OrderRow
    from .context import PipelineContext

MERCHANT = "merchant"


def _load(ctx: PipelineContext, session: Session, order_id: int) -> OrderRow:
    row = repo.get_order(session, ctx.merchant_id, order_id, lock=True)
    if row is None:
        raise UserError(f"there is no order {order_id}")
    return row


def approve_order(ctx: PipelineContext, order_id: int, *, actor: str = MERCHANT) -> str:
    """Send a held order on; return a sentence saying what happens next."""
    with ctx.db.transaction() as session:
        row = _load(ctx, session, order_id)
        if row.status != OrderStatus.held:
            raise UserError(
                f"order {order_id} is {row.status}, not held; only held orders can be approved"
            )
        if row.hold_reason in t.NOT_OVERRIDABLE:
            raise UserError(
                f"order {order_id} is held for {row.hold_reason}: fix the address on {row.channel}; "
                "fbs picks up the change on its next poll"
            )
        t.record(
            ctx,
            session,
            row,
            "approved_by_merchant",
            f"Approved (was held: {row.hold_reason}).",
            actor=actor,
        )
        return _resume(ctx, session, row, actor)


def retry_order(ctx: PipelineContext, order_id: int, *, actor: str = MERCHANT) -> str:
    """Run again whatever failed for an order (a held step, a failed refund or push)."""
    with ctx.db.transaction() as session:
        row = _load(ctx, session, order_id)
        if row.status == OrderStatus.held:
            if row.hold_reason in t.NOT_OVERRIDABLE:
                raise UserError(
                    f"order {order_id} is held for {row.hold_reason}: fix the address on {row.channel}"
                )
            t.record(
                ctx,
                session,
                row,
                "retried_by_merchant",
                f"Retried (was held: {row.hold_reason}).",
                actor=actor,
            )
            return _resume(ctx, session, row, actor)
        failed = repo.commands_for(session, row.id, statuses=("failed",))
        if not failed:
            raise UserError(f"order {order_id} is {row.status} and nothing about it has failed")
        for command in failed:
            _reset(ctx, command)
            if command.kind == "refund":
                refund = repo.refund_by_key(session, ctx.merchant_id, command.idempotency_key)
                if refund is not None:
                    refund.status = "pending"
        t.record(
            ctx,
            session,
            row,
            "retried_by_merchant",
            f"Retrying {len(failed)} failed step(s).",
            actor=actor,
        )
        return f"retrying {len(failed)} failed step(s)"


def cancel(
    ctx: PipelineContext,
    order_id: int,
    *,
    actor: str = MERCHANT,
    reason: str = "Cancelled by the merchant.",
) -> str:
    """Cancel an order at whatever stage it is."""
    with ctx.db.transaction() as session:
        row = _load(ctx, session, order_id)
        if OrderStatus(row.status).is_final:
            raise UserError(f"order {order_id} is already {row.status}")
        cancel_order(ctx, session, row, actor=actor, reason=reason)
        return (
            "cancelled"
            if row.status == OrderStatus.cancelled
            else "cancellation requested; waiting for the warehouses"
        )


def _reset(ctx: PipelineContext, command: object) -> None:
    command.status = "pending"  # type: ignore[attr-defined]
    command.attempts = 0  # type: ignore[attr-defined]
    command.next_attempt_at = ctx.now()  # type: ignore[attr-defined]
    command.updated_at = ctx.now()  # type: ignore[attr-defined]


def _supersede(command: object) -> None:
    command.status = "cancelled"  # type: ignore[attr-defined]


def _resume(ctx: PipelineContext, session: Session, row: OrderRow, actor: str) -> str:
    """Continue a held order from the step that held it."""
    held_from = OrderStatus(row.held_from or OrderStatus.received)
    failed = repo.commands_for(session, row.id, statuses=("failed",))
    if held_from in (OrderStatus.received, OrderStatus.approved):
        for command in failed:
            _supersede(command)
        send_on(ctx, session, row, message="Sent on by the merchant.", actor=actor)
        return "approved; sourcing now"
    if held_from == OrderStatus.sourced:
        plan = repo.active_plan(session, row.id)
        if plan is None:
            raise UserError(f"order {row.id} has no sourcing plan to charge for")
        t.resume(ctx, session, row, "Charging again.", actor=actor)
        if any(c.status == "pending" for c in repo.charges_for(session, row.id)):
            # The last attempt's outcome is unknown: ask again with the same key, so the
            # gateway answers with what it did rather than charging twice.
            for command in failed:
                _reset(ctx, command) if command.kind == "charge" else _supersede(command)
            return "asking the payment gateway again"
        for command in failed:
            _supersede(command)
        enqueue_charge(ctx, session, row, plan)
        return "charging the card on file"
    t.resume(ctx, session, row, "Resumed by the merchant.", actor=actor)
    resumed = 0
    for po in repo.purchase_orders_for(session, row.id):
        if po.status == "failed" and (po.error or "").startswith("no_stock"):
            enqueue_sourcing(
                ctx,
                session,
                row,
                resource_po=po.po_number,
                exclude=refused_by(session, row),
                absorb=True,
            )
            resumed += 1
    for command in failed:
        _reset(ctx, command)
        resumed += 1
    return f"resumed {resumed} step(s)"
