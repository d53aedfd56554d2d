"""The ``place_po`` and ``cancel_po`` commands: purchase orders at warehouses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...db import repository as repo
from ...db.models import PurchaseOrderLineRow, PurchaseOrderRow
from ...domain import (
    Address,
    Money,
    OrderStatus,
    PlanLeg,
    PurchaseOrderLine,
    PurchaseOrderRequest,
)
from ...domain.rules import NoStockPolicy
from ...errors import AdapterError, OutOfStock
from .. import transitions as t
from ..cancellation import cancel_order, refund_unsent_po, request_po_cancel
from ..money import cores_cents, enqueue_refund, goods_cents, split_proportionally
from ..progress import finish_cancellation_if_settled, maybe_complete
from ..review import enqueue_sourcing
from .base import Command, Handler, configured

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ...db.models import OrderRow, OutboxCommandRow
    from ..context import PipelineContext

LIVE_PO_STATUSES = ("pending", "placed", "partially_shipped", "shipped", "cancel_requested")


def create_purchase_orders(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    legs: Sequence[PlanLeg],
    *,
    tax_cents: int,
) -> list[PurchaseOrderRow]:
    """Create one purchase order per leg and the commands that send them.

    PO numbers are ``<merchant>-<order id>-<sequence>``: the warehouse dedupes on them.
    ``tax_cents`` is shared out over the legs by the value of their parts and cores.
    """
    weights = [leg.parts_cost.cents + leg.core_charges.cents for leg in legs]
    created = []
    for leg, tax_share in zip(legs, split_proportionally(tax_cents, weights), strict=True):
        order.po_sequence += 1
        po_number = f"{ctx.merchant_id}-{order.id}-{order.po_sequence}".upper()
        po = PurchaseOrderRow(
            merchant_id=ctx.merchant_id,
            order_id=order.id,
            po_number=po_number,
            supplier=leg.supplier,
            status="pending",
            ship_from_zip=leg.ship_from_zip,
            currency=leg.shipping.currency,
            shipping_cents=leg.shipping.cents,
            tax_cents=tax_share,
            created_at=ctx.now(),
            updated_at=ctx.now(),
            lines=[
                PurchaseOrderLineRow(
                    merchant_id=ctx.merchant_id,
                    line_id=line.line_id,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_cost_cents=line.unit_cost.cents,
                    core_charge_cents=line.core_charge.cents,
                )
                for line in leg.lines
            ],
        )
        session.add(po)
        t.enqueue(
            ctx,
            session,
            order,
            kind="place_po",
            target=leg.supplier,
            key=f"po:{po_number}",
            payload={
                "po_number": po_number,
                "order_reference": order.number,
                "ship_to": order.ship_to,
                "currency": po.currency,
                "lines": [
                    {
                        "sku": line.sku,
                        "quantity": line.quantity,
                        "unit_cost_cents": line.unit_cost.cents,
                        "core_charge_cents": line.core_charge.cents,
                    }
                    for line in leg.lines
                ],
            },
        )
        created.append(po)
    return created


class PlacePurchaseOrderHandler(Handler):
    """Send a purchase order; the order is ``ordered`` once every one is accepted."""

    kind = "place_po"

    def execute(self, ctx: PipelineContext, command: Command) -> dict[str, Any]:  # noqa: D102
        supplier = configured(ctx.runtime.suppliers, command.target, "supplier")
        p = command.payload
        currency = p["currency"]
        request = PurchaseOrderRequest(
            po_number=p["po_number"],
            supplier=command.target,
            ship_to=Address.model_validate(p["ship_to"]),
            order_reference=p["order_reference"],
            lines=tuple(
                PurchaseOrderLine(
                    sku=line["sku"],
                    quantity=line["quantity"],
                    unit_cost=Money(cents=line["unit_cost_cents"], currency=currency),
                    core_charge=Money(cents=line["core_charge_cents"], currency=currency),
                )
                for line in p["lines"]
            ),
        )
        ack = supplier.place_order(request)
        return {
            "supplier_reference": ack.supplier_reference,
            "lines": [line.model_dump(mode="json") for line in ack.lines],
        }

    def apply(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        result: dict[str, Any],
    ) -> None:
        po = _purchase_order(ctx, session, command)
        if po is None or order is None:
            return
        if po.status == "pending":  # an acceptance recorded late never undoes a shipment
            po.status = "placed"
        po.supplier_reference = result["supplier_reference"]
        po.updated_at = ctx.now()
        t.record(
            ctx,
            session,
            order,
            "po_placed",
            f"Purchase order {po.po_number} accepted by {po.supplier} ({po.supplier_reference}).",
        )
        if order.cancel_requested:
            request_po_cancel(ctx, session, order, po)
            return
        live = [
            p for p in repo.purchase_orders_for(session, order.id) if p.status in LIVE_PO_STATUSES
        ]
        if order.status == OrderStatus.charged and all(p.status != "pending" for p in live):
            t.set_status(
                ctx, session, order, OrderStatus.ordered, f"{len(live)} purchase order(s) accepted."
            )
        maybe_complete(ctx, session, order)  # the parcels may have shipped before this was recorded

    def on_fatal(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: AdapterError,
    ) -> None:
        po = _purchase_order(ctx, session, command)
        if po is None or order is None:
            return
        po.status = "failed"
        po.error = f"{error.code}: {error.message}"
        po.updated_at = ctx.now()
        if order.cancel_requested:
            po.status = "cancelled"
            refund_unsent_po(ctx, session, order, po)
            finish_cancellation_if_settled(ctx, session, order)
            return
        if not isinstance(error, OutOfStock):
            t.hold(
                ctx,
                session,
                order,
                error.code,
                f"{po.supplier} refused {po.po_number}: {error.message}",
            )
            return
        command.status = "cancelled"  # the refused PO itself records the failure from here
        policy = ctx.rules.on_no_stock
        message = f"{po.supplier} has no stock for {po.po_number}: {error.message}"
        if policy == NoStockPolicy.resource:
            t.record(ctx, session, order, "no_stock", message + " Looking for another warehouse.")
            enqueue_sourcing(
                ctx, session, order, resource_po=po.po_number, exclude=refused_by(session, order)
            )
        elif policy == NoStockPolicy.cancel:
            cancel_order(ctx, session, order, actor="system", reason=message)
        else:
            t.hold(ctx, session, order, "no_stock", message)


def _purchase_order(
    ctx: PipelineContext, session: Session, command: OutboxCommandRow
) -> PurchaseOrderRow | None:
    """The purchase order a ``place_po`` or ``cancel_po`` command is about."""
    return repo.purchase_order_by_number(session, ctx.merchant_id, command.payload["po_number"])


def refused_by(session: Session, order: OrderRow) -> list[str]:
    """Warehouses that refused a purchase order of this order for stock."""
    return sorted(
        {
            po.supplier
            for po in repo.purchase_orders_for(session, order.id)
            if po.status in ("failed", "replaced") and (po.error or "").startswith("no_stock")
        }
    )


class CancelPurchaseOrderHandler(Handler):
    """Ask a warehouse to stop a purchase order and refund what it stops."""

    kind = "cancel_po"

    def execute(self, ctx: PipelineContext, command: Command) -> dict[str, Any]:  # noqa: D102
        supplier = configured(ctx.runtime.suppliers, command.target, "supplier")
        result = supplier.cancel_order(command.payload["po_number"])
        return {
            "cancelled": {line.sku: line.quantity for line in result.cancelled},
            "message": result.message,
        }

    def apply(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        result: dict[str, Any],
    ) -> None:
        po = _purchase_order(ctx, session, command)
        if po is None or order is None:
            return
        stopped: dict[str, int] = {}
        for line in po.lines:
            asked = int(result["cancelled"].get(line.sku, 0)) - stopped.get(line.sku, 0)
            qty = max(
                0, min(asked, line.quantity - line.shipped_quantity - line.cancelled_quantity)
            )
            if qty:
                line.cancelled_quantity += qty
                stopped[line.sku] = stopped.get(line.sku, 0) + qty
                for order_line in order.lines:
                    if order_line.line_id == line.line_id:
                        order_line.cancelled_quantity += qty
        everything = all(line.cancelled_quantity >= line.quantity for line in po.lines)
        po.status = (
            "cancelled"
            if everything
            else (
                "partially_shipped" if any(line.shipped_quantity for line in po.lines) else "placed"
            )
        )
        po.updated_at = ctx.now()
        if stopped:
            goods = goods_cents(po, stopped)
            tax_share = po.tax_cents * goods // max(goods_cents(po), 1)
            amount = goods + tax_share + (po.shipping_cents if everything else 0)
            enqueue_refund(
                ctx,
                session,
                order,
                key=f"refund:{po.po_number}",
                amount_cents=amount,
                core_charges_cents=cores_cents(po, stopped),
                reason=f"{po.supplier} cancelled {sum(stopped.values())} unit(s) of {po.po_number}.",
            )
        t.record(
            ctx,
            session,
            order,
            "po_cancelled" if stopped else "po_cancel_refused",
            f"{po.supplier} cancelled {sum(stopped.values())} unit(s) of {po.po_number}. {result['message']}".strip(),
        )
        finish_cancellation_if_settled(ctx, session, order)
        maybe_complete(ctx, session, order)

    def on_fatal(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: AdapterError,
    ) -> None:
        po = _purchase_order(ctx, session, command)
        if po is None or order is None:
            return
        po.status = "placed"
        t.record(
            ctx,
            session,
            order,
            "po_cancel_refused",
            f"{po.supplier} could not cancel {po.po_number}: {error.message}",
        )
        finish_cancellation_if_settled(ctx, session, order)
