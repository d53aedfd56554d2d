"""Send, Cancel and Retry from the console: what each will do, in one sentence, then doing it.

The sentence is worked out from the order as it stands (its charges, purchase orders
and what held it), so the person clicking reads what will happen before it happens.
The action itself is :mod:`fbs_core.pipeline.actions`, the same code ``fbs orders``
runs, with the signed-in user as the actor the timeline records.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..domain import Money, OrderStatus
from ..domain.purchasing import PurchaseOrderStatus
from ..errors import UserError
from ..pipeline import actions
from ..pipeline import transitions as t

if TYPE_CHECKING:
    from ..domain.views import OrderDetail
    from ..pipeline.context import PipelineContext

CANCELLABLE_PO = frozenset(
    {
        PurchaseOrderStatus.pending,
        PurchaseOrderStatus.placed,
        PurchaseOrderStatus.partially_shipped,
    }
)
"""Purchase orders a cancellation asks the warehouse to cancel (what has not shipped)."""


class OrderAction(enum.StrEnum):
    """The buttons of the order page."""

    send = "send"
    cancel = "cancel"
    retry = "retry"


def refundable_cents(detail: OrderDetail) -> int:
    """What the card was charged for the order and not yet refunded."""
    return sum(c.amount_cents - c.refunded_cents for c in detail.charges if c.status == "succeeded")


def available(detail: OrderDetail) -> dict[OrderAction, str | None]:
    """Each action → None when it can be taken now, else why not."""
    order = detail.order
    failed = [c for c in detail.commands if c.status == "failed"]
    held = order.status == OrderStatus.held
    fixed_upstream = held and order.hold_reason in t.NOT_OVERRIDABLE
    return {
        OrderAction.send: (
            None
            if held and not fixed_upstream
            else f"only held orders can be sent; this one is {order.status.value}"
            if not held
            else f"held for {order.hold_reason}: fix the address on {order.channel}"
        ),
        OrderAction.cancel: (
            None if not order.status.is_final else f"the order is already {order.status.value}"
        ),
        OrderAction.retry: (
            None
            if (held and not fixed_upstream) or failed
            else "nothing about this order has failed"
        ),
    }


def describe(detail: OrderDetail, action: OrderAction) -> str:
    """The confirmation sentence: what clicking ``action`` will do to this order."""
    order = detail.order
    name = f"order {order.number or order.external_id}"
    if action is OrderAction.cancel:
        parts = []
        refund = refundable_cents(detail)
        if refund:
            parts.append(f"refund {Money(cents=refund, currency=order.currency)} to the card")
        open_pos = [
            po for po in detail.purchase_orders if po.status in {s.value for s in CANCELLABLE_PO}
        ]
        for po in open_pos:
            parts.append(f"ask the {po.supplier} warehouse to cancel PO {po.po_number}")
        if not parts:
            parts.append("stop it before anything is charged or bought")
        return f"Cancel {name}: {_join(parts)}. This cannot be undone."
    if action is OrderAction.send:
        reason = order.hold_message or order.hold_reason or "held"
        active = next((p for p in detail.plans if p.active), None)
        if active is not None and not detail.charges:
            total = Money(cents=active.total_cents, currency=active.currency)
            suppliers = ", ".join(sorted({str(leg.get("supplier", "")) for leg in active.legs}))
            then = f"charge {total} to the card and buy the parts from {suppliers}"
        else:
            then = (
                "choose the warehouse with the lowest landed cost, charge the card and "
                "place the purchase order"
            )
        return f"Send {name} on although it was held ({reason}): fbs will {then}."
    failed = [c for c in detail.commands if c.status == "failed"]
    if order.status == OrderStatus.held:
        return (
            f"Retry {name}: run again the step that held it "
            f"({order.hold_message or order.hold_reason})."
        )
    steps = ", ".join(f"{c.kind} at {c.target}" for c in failed)
    return f"Retry {name}: run again {len(failed)} failed step(s): {steps}."


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def perform(ctx: PipelineContext, order_id: int, action: OrderAction, actor: str) -> str:
    """Take ``action`` on the order as ``actor``; UserError when it cannot be taken now."""
    run: Callable[..., str] = {
        OrderAction.send: actions.approve_order,
        OrderAction.cancel: actions.cancel,
        OrderAction.retry: actions.retry_order,
    }[action]
    if action is OrderAction.cancel:
        return run(ctx, order_id, actor=actor, reason="Cancelled in the console.")
    return run(ctx, order_id, actor=actor)


__all__ = ["OrderAction", "UserError", "available", "describe", "perform", "refundable_cents"]
