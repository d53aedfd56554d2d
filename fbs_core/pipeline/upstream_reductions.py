"""Lines the channel lowered or removed after parts were bought: ask the warehouses back.

A buyer who takes one brake pad set instead of two, or drops a line, after the card was
charged and the purchase order sent, leaves the warehouse with units nobody wants. The
line keeps what was bought in ``quantity`` and records what the channel still wants in
``upstream_quantity``; each accepted purchase order carrying the line is asked to stop the
units above it (``cancel_po`` with ``keep``), and what the warehouse stops is refunded
when its answer is recorded. Units that already shipped cannot be stopped: the answer says
so on the timeline. A purchase order still on its way is asked once it is accepted.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import TYPE_CHECKING

from ..db import repository as repo
from ..domain import IncomingOrder
from . import transitions as t
from .command_payloads import CancelPurchaseOrderPayload
from .context import PipelineContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..db.models import OrderLineRow, OrderRow, PurchaseOrderRow

CANCELLABLE_PO_STATUSES = ("placed", "partially_shipped")


def lowered_quantities(row: OrderRow, incoming: IncomingOrder) -> dict[str, int] | None:
    """Line id → the quantity the channel now wants, if the change only lowers or removes.

    None when the change is anything else (a new line, a higher quantity, another part,
    price or address): that change cannot be applied to parts already bought.
    """
    ship_to = incoming.ship_to.model_dump() if incoming.ship_to else None
    if ship_to != row.ship_to:
        return None
    wanted = {line.line_id: line for line in incoming.lines}
    lowered: dict[str, int] = {}
    for line in row.lines:
        now = wanted.pop(line.line_id, None)
        if now is None:
            lowered[line.line_id] = 0
            continue
        if now.sku.strip() != line.sku or now.unit_price.cents != line.unit_price_cents:
            return None
        quantity = max(now.quantity, 0)
        if quantity > line.quantity:
            return None
        if quantity < _still_wanted(line):
            lowered[line.line_id] = quantity
    if any(line.quantity > 0 for line in wanted.values()):
        return None
    return lowered


def _still_wanted(line: OrderLineRow) -> int:
    return line.quantity if line.upstream_quantity is None else line.upstream_quantity


def lower_lines(
    ctx: PipelineContext, session: Session, order: OrderRow, lowered: dict[str, int], actor: str
) -> None:
    """Record what the channel now wants of each line and ask the warehouses back."""
    changes = []
    for line in order.lines:
        if line.line_id in lowered:
            line.upstream_quantity = lowered[line.line_id]
            changes.append(f"{line.sku} {line.quantity} → {line.upstream_quantity}")
    t.record(
        ctx,
        session,
        order,
        "lowered_upstream",
        "The buyer lowered the order on the channel after parts were bought ("
        + ", ".join(changes)
        + "); the warehouses are asked to stop the units no longer wanted, and what they "
        "stop is refunded.",
        actor=actor,
        data={"lines": lowered},
    )
    left = ask_warehouses_back(ctx, session, order)
    on_the_way = any(po.status == "pending" for po in repo.purchase_orders_for(session, order.id))
    if left and not on_the_way:
        by_line = {line.line_id: line.sku for line in order.lines}
        t.record(
            ctx,
            session,
            order,
            "lowered_after_shipping",
            "Already shipped, so not asked back or refunded: "
            + ", ".join(f"{units} × {by_line[line_id]}" for line_id, units in left.items())
            + ".",
            actor=actor,
        )


def ask_warehouses_back(ctx: PipelineContext, session: Session, order: OrderRow) -> dict[str, int]:
    """Ask each accepted purchase order to stop the units its lines no longer want.

    Returns the units (per line id) no accepted purchase order could be asked for: they
    shipped, or their purchase order is still on its way.
    """
    if order.cancel_requested:
        return {}  # the whole order is being cancelled; that asks for everything
    if any(
        command.kind == "cancel_po"
        for command in repo.commands_for(session, order.id, statuses=("pending", "running"))
    ):
        return {}  # asked again when that answer is recorded, from what it stopped
    pos = [
        po
        for po in repo.purchase_orders_for(session, order.id)
        if po.status in CANCELLABLE_PO_STATUSES
    ]
    surplus = {
        line.line_id: line.quantity - line.cancelled_quantity - line.upstream_quantity
        for line in order.lines
        if line.upstream_quantity is not None
    }
    surplus = {line_id: units for line_id, units in surplus.items() if units > 0}
    for po in reversed(pos):  # the latest purchase orders give back first
        keep = _keep_after_taking(po, surplus)
        if keep:
            _enqueue_partial_cancel(ctx, session, order, po, keep)
    return {line_id: units for line_id, units in surplus.items() if units > 0}


def _keep_after_taking(po: PurchaseOrderRow, surplus: dict[str, int]) -> dict[str, int]:
    """Take the surplus this PO can still stop; return its ``keep`` for the parts touched."""
    keep = Counter[str]()
    touched: set[str] = set()
    for line in po.lines:
        keep[line.sku] += line.quantity - line.cancelled_quantity
    for line in po.lines:
        units = min(
            surplus.get(line.line_id, 0),
            line.quantity - line.shipped_quantity - line.cancelled_quantity,
        )
        if units > 0:
            surplus[line.line_id] -= units
            keep[line.sku] -= units
            touched.add(line.sku)
    return {sku: keep[sku] for sku in sorted(touched)}


def _enqueue_partial_cancel(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    po: PurchaseOrderRow,
    keep: dict[str, int],
) -> None:
    digest = hashlib.sha256(repr(sorted(keep.items())).encode()).hexdigest()[:16]
    t.enqueue(
        ctx,
        session,
        order,
        target=po.supplier,
        key=f"cancel:{po.po_number}:keep:{digest}",
        payload=CancelPurchaseOrderPayload(po_number=po.po_number, keep=keep),
    )
