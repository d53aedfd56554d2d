"""The ``place_po`` and ``cancel_po`` commands: purchase orders at warehouses."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
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
    merge_lines,
)
from ...domain.po_lifecycle import PurchaseOrderEvent
from ...domain.purchasing import PurchaseOrderStatus
from ...domain.rules import NoStockPolicy
from ...errors import AdapterError, FatalError, OutOfStock
from .. import identifiers
from .. import transitions as t
from ..cancellation import cancel_order, refund_unsent_po, request_po_cancel
from ..command_payloads import (
    CancelPurchaseOrderPayload,
    PlacePurchaseOrderPayload,
    PurchaseOrderLinePayload,
)
from ..money import enqueue_refund, split_proportionally
from ..po_transitions import move_po, status_from_lines
from ..progress import finish_cancellation_if_settled, maybe_complete
from ..review import enqueue_sourcing
from ..upstream_reductions import ask_warehouses_back
from .base import Command, Handler, configured
from .drift import tolerance_cents

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

    ``tax_cents`` is shared out over the legs by the value of their parts and cores.
    """
    weights = [leg.parts_cost.cents + leg.core_charges.cents for leg in legs]
    return [
        new_purchase_order(
            ctx,
            session,
            order,
            supplier=leg.supplier,
            ship_from_zip=leg.ship_from_zip,
            currency=leg.shipping.currency,
            shipping_cents=leg.shipping.cents,
            tax_cents=tax_share,
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
        for leg, tax_share in zip(legs, split_proportionally(tax_cents, weights), strict=True)
    ]


def new_purchase_order(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    *,
    supplier: str,
    ship_from_zip: str,
    currency: str,
    shipping_cents: int,
    tax_cents: int,
    lines: list[PurchaseOrderLineRow],
) -> PurchaseOrderRow:
    """Create a pending purchase order and the ``place_po`` command that sends it.

    PO numbers come from :func:`~fbs_core.pipeline.identifiers.po_number` (merchant,
    installation, order, sequence): the warehouse dedupes on them.
    The rows keep one line per store line (so parcels and cancellations land on the right
    store line); the warehouse gets one line per part number (:func:`warehouse_lines`).
    """
    order.po_sequence += 1
    po_number = identifiers.po_number(ctx, order, order.po_sequence)
    po = PurchaseOrderRow(
        merchant_id=ctx.merchant_id,
        order_id=order.id,
        po_number=po_number,
        supplier=supplier,
        status=PurchaseOrderStatus.pending,
        ship_from_zip=ship_from_zip,
        currency=currency,
        shipping_cents=shipping_cents,
        tax_cents=tax_cents,
        created_at=ctx.now(),
        updated_at=ctx.now(),
        lines=lines,
    )
    session.add(po)
    t.enqueue(
        ctx,
        session,
        order,
        target=supplier,
        key=f"po:{po_number}",
        payload=PlacePurchaseOrderPayload(
            po_number=po_number,
            order_reference=order.number,
            ship_to=Address.model_validate(order.ship_to) if order.ship_to else None,
            currency=currency,
            lines=tuple(
                PurchaseOrderLinePayload(
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_cost_cents=line.unit_cost.cents,
                    core_charge_cents=line.core_charge.cents,
                )
                for line in warehouse_lines(po)
            ),
        ),
    )
    return po


def warehouse_lines(po: PurchaseOrderRow) -> tuple[PurchaseOrderLine, ...]:
    """The purchase order's lines as the warehouse sees them: each part number once."""
    return merge_lines(
        PurchaseOrderLine(
            sku=line.sku,
            quantity=line.quantity,
            unit_cost=Money(cents=line.unit_cost_cents, currency=po.currency),
            core_charge=Money(cents=line.core_charge_cents, currency=po.currency),
        )
        for line in po.lines
    )


def line_goods_cents(line: PurchaseOrderLineRow, quantity: int | None = None) -> int:
    """Parts plus cores of one purchase-order line (or ``quantity`` units of it)."""
    units = line.quantity if quantity is None else quantity
    return (line.unit_cost_cents + line.core_charge_cents) * units


def charged_for(po: PurchaseOrderRow) -> Money:
    """What the order's charge paid for this purchase order: goods, shipping and tax."""
    goods = sum(line_goods_cents(line) for line in po.lines)
    return Money(cents=goods + po.shipping_cents + po.tax_cents, currency=po.currency)


class PlacePurchaseOrderHandler(Handler):
    """Send a purchase order; the order is ``ordered`` once every one is accepted."""

    kind = "place_po"

    def execute(self, ctx: PipelineContext, command: Command) -> dict[str, Any]:  # noqa: D102
        supplier = configured(ctx.runtime.suppliers, command.target, "supplier")
        p = PlacePurchaseOrderPayload.read(command.payload)
        if p.ship_to is None:
            raise FatalError(f"{p.po_number} has no ship-to address", code="invalid_request")
        request = PurchaseOrderRequest(
            po_number=p.po_number,
            supplier=command.target,
            ship_to=p.ship_to,
            order_reference=p.order_reference,
            # merged here too, so a command written with a part on two lines still goes out
            lines=merge_lines(
                PurchaseOrderLine(
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_cost=Money(cents=line.unit_cost_cents, currency=p.currency),
                    core_charge=Money(cents=line.core_charge_cents, currency=p.currency),
                )
                for line in p.lines
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
        # An acceptance can be recorded late (a lost answer retried, a crash before the
        # result was stored): by then the parcel may have shipped. It never moves back.
        # A PO that had failed and was sent again (the merchant retried) is accepted now.
        move_po(ctx, po, PurchaseOrderEvent.accepted)
        po.supplier_reference = result["supplier_reference"]
        t.record(
            ctx,
            session,
            order,
            "po_placed",
            f"Purchase order {po.po_number} accepted by {po.supplier} ({po.supplier_reference}).",
        )
        if order.cancel_requested:
            if po.status in ("placed", "partially_shipped"):
                request_po_cancel(ctx, session, order, po)
            finish_cancellation_if_settled(ctx, session, order)
            return
        live = [
            p for p in repo.purchase_orders_for(session, order.id) if p.status in LIVE_PO_STATUSES
        ]
        if order.status == OrderStatus.charged and all(p.status != "pending" for p in live):
            t.set_status(
                ctx, session, order, OrderStatus.ordered, f"{len(live)} purchase order(s) accepted."
            )
        billed = [PurchaseOrderLine.model_validate(line) for line in result.get("lines", [])]
        apply_repricing(ctx, session, order, po, billed)
        ask_warehouses_back(ctx, session, order)  # the buyer may have lowered it meanwhile
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
        move_po(ctx, po, PurchaseOrderEvent.refused)
        po.error = f"{error.code}: {error.message}"
        if order.cancel_requested:
            move_po(ctx, po, PurchaseOrderEvent.voided)
            refund_unsent_po(ctx, session, order, po)
            finish_cancellation_if_settled(ctx, session, order)
            return
        if not isinstance(error, OutOfStock):
            t.hold(
                ctx,
                session,
                order,
                error.code,
                f"{po.supplier} refused {po.po_number}: {error.message}. "
                f"{charged_for(po)} charged for it stands: fix the cause and retry the order, "
                "or cancel it to refund.",
            )
            return
        command.status = "cancelled"  # the refused PO itself records the failure from here
        policy = ctx.rules.on_no_stock
        message = f"{po.supplier} has no stock for {po.po_number}: {error.message}"
        if policy != NoStockPolicy.cancel:
            kept = split_off_stocked_lines(ctx, session, order, po, set(error.skus))
            if kept is not None:
                message += (
                    f" The parts it has go on {kept.po_number}; only "
                    f"{', '.join(sorted({line.sku for line in po.lines}))} are bought elsewhere."
                )
        if policy == NoStockPolicy.resource:
            t.record(ctx, session, order, "no_stock", message + " Looking for another warehouse.")
            enqueue_sourcing(
                ctx, session, order, resource_po=po.po_number, exclude=refused_by(session, order)
            )
        elif policy == NoStockPolicy.cancel:
            cancel_order(ctx, session, order, actor="system", reason=message)
        else:
            t.hold(
                ctx,
                session,
                order,
                "no_stock",
                f"{message} {charged_for(po)} charged for {po.po_number} stands: approve to buy "
                "it elsewhere, or cancel the order to refund.",
            )

    def on_give_up(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: str,
    ) -> None:
        _hold_given_up(
            ctx,
            session,
            command,
            order,
            lambda po: (
                f"{command.target} kept failing after {command.attempts} attempts "
                f"({error}). {charged_for(po)} charged for {po.po_number} stands: retry the order "
                "to send it again with the same number, or cancel it to refund."
            ),
        )


def _hold_given_up(
    ctx: PipelineContext,
    session: Session,
    command: OutboxCommandRow,
    order: OrderRow | None,
    message: Callable[[PurchaseOrderRow], str],
) -> None:
    """Hold the order of a purchase-order command whose retries ran out, naming the PO."""
    po = _purchase_order(ctx, session, command)
    if order is None or po is None or OrderStatus(order.status).is_final:
        return
    t.hold(ctx, session, order, "upstream_unavailable", message(po))


def apply_repricing(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    po: PurchaseOrderRow,
    billed: Sequence[PurchaseOrderLine],
) -> None:
    """Put the warehouse's prices on acceptance through the price-drift rule.

    A part billed for less than was charged is repriced on the purchase order and the
    difference refunded. A part billed for more is absorbed and recorded when the extra is
    within the price-drift tolerance; beyond it the order is held with the amounts, so the
    merchant approves (keeps buying) or cancels (the warehouse is asked to stop, refunded).
    """
    prices = {line.sku: line.unit_cost.cents + line.core_charge.cents for line in billed}
    cores = {line.sku: line.core_charge.cents for line in billed}
    saving = extra = saved_cores = 0
    for line in po.lines:
        price = prices.get(line.sku)
        if price is None:
            continue
        quoted = line.unit_cost_cents + line.core_charge_cents
        if price < quoted:
            saving += (quoted - price) * line.quantity
            saved_cores += max(line.core_charge_cents - cores[line.sku], 0) * line.quantity
            line.core_charge_cents = min(line.core_charge_cents, cores[line.sku])
            line.unit_cost_cents = price - line.core_charge_cents
        elif price > quoted:
            extra += (price - quoted) * line.quantity
    currency = po.currency
    if saving:
        enqueue_refund(
            ctx,
            session,
            order,
            key=f"refund:reprice:{po.po_number}",
            amount_cents=saving,
            core_charges_cents=saved_cores,
            reason=f"{po.supplier} billed {po.po_number} for less than was charged.",
        )
        t.record(
            ctx,
            session,
            order,
            "po_repriced",
            f"{po.supplier} billed {po.po_number} {Money(cents=saving, currency=currency)} less "
            "than quoted; the difference is refunded.",
            data={"extra_cost_cents": -saving},
        )
    if not extra:
        return
    quoted_total = sum(line_goods_cents(line) for line in po.lines)
    more = Money(cents=extra, currency=currency)
    if extra <= tolerance_cents(ctx, quoted_total) or po.status != "placed":
        # within tolerance, or too late to stop: the merchant pays the difference
        t.record(
            ctx,
            session,
            order,
            "po_repriced",
            f"{po.supplier} billed {po.po_number} {more} more than quoted; absorbed.",
            data={"extra_cost_cents": extra},
        )
        return
    if OrderStatus(order.status).is_final:
        return
    t.hold(
        ctx,
        session,
        order,
        "price_drift",
        f"{po.supplier} accepted {po.po_number} but bills "
        f"{Money(cents=quoted_total + extra, currency=currency)} for its parts instead of the "
        f"{Money(cents=quoted_total, currency=currency)} quoted ({more} more), beyond the "
        f"price-drift tolerance. {charged_for(po)} charged for it stands: approve to keep "
        "buying it, or cancel the order to ask the warehouse to stop and refund.",
    )


def split_off_stocked_lines(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    po: PurchaseOrderRow,
    short_skus: set[str],
) -> PurchaseOrderRow | None:
    """Move the lines a warehouse has stock for off a refused PO onto a new PO to it.

    The refused PO keeps only the short parts (to be bought elsewhere or held); the new
    one keeps the shipping and its share of the tax. None when the refusal names no part
    or every part (then the whole PO moves on).
    """
    stocked = [line for line in po.lines if line.sku not in short_skus]
    if not short_skus or not stocked or len(stocked) == len(po.lines):
        return None
    goods = sum(line_goods_cents(line) for line in po.lines)
    kept_tax = po.tax_cents * sum(line_goods_cents(line) for line in stocked) // max(goods, 1)
    kept = new_purchase_order(
        ctx,
        session,
        order,
        supplier=po.supplier,
        ship_from_zip=po.ship_from_zip,
        currency=po.currency,
        shipping_cents=po.shipping_cents,
        tax_cents=kept_tax,
        lines=[
            PurchaseOrderLineRow(
                merchant_id=ctx.merchant_id,
                line_id=line.line_id,
                sku=line.sku,
                quantity=line.quantity,
                unit_cost_cents=line.unit_cost_cents,
                core_charge_cents=line.core_charge_cents,
            )
            for line in stocked
        ],
    )
    for line in stocked:
        po.lines.remove(line)
    po.shipping_cents = 0
    po.tax_cents -= kept_tax
    return kept


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
        payload = CancelPurchaseOrderPayload.read(command.payload)
        keep = payload.keep
        if keep is None:
            result = supplier.cancel_order(payload.po_number)
        elif "keep" not in inspect.signature(type(supplier).cancel_order).parameters:
            raise FatalError(
                f"{command.target} cannot stop part of a purchase order (its plugin's "
                "cancel_order takes no 'keep'); the units the buyer no longer wants will ship",
                code="partial_cancel_unsupported",
            )
        else:
            result = supplier.cancel_order(payload.po_number, keep=keep)
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
        # The warehouse answers with every unit cancelled on the PO so far, per part
        # number; what is new is shared out over the part's store lines, those the buyer
        # lowered first, each unit counted once.
        left = {
            sku: int(qty) - sum(line.cancelled_quantity for line in po.lines if line.sku == sku)
            for sku, qty in result["cancelled"].items()
        }
        lowered = {line.line_id for line in order.lines if line.upstream_quantity is not None}
        stopped: dict[str, int] = {}
        goods = cores = 0
        for line in sorted(po.lines, key=lambda line: line.line_id not in lowered):
            open_units = line.quantity - line.shipped_quantity - line.cancelled_quantity
            qty = max(0, min(left.get(line.sku, 0), open_units))
            if qty:
                left[line.sku] -= qty
                line.cancelled_quantity += qty
                stopped[line.sku] = stopped.get(line.sku, 0) + qty
                goods += line_goods_cents(line, qty)
                cores += line.core_charge_cents * qty
                for order_line in order.lines:
                    if order_line.line_id == line.line_id:
                        order_line.cancelled_quantity += qty
        everything = all(line.cancelled_quantity >= line.quantity for line in po.lines)
        move_po(ctx, po, PurchaseOrderEvent.cancel_answered, status_from_lines(po))
        if stopped:
            all_goods = sum(line_goods_cents(line) for line in po.lines)
            tax_share = po.tax_cents * goods // max(all_goods, 1)
            amount = goods + tax_share + (po.shipping_cents if everything else 0)
            enqueue_refund(
                ctx,
                session,
                order,
                key="refund:" + command.idempotency_key.removeprefix("cancel:"),
                amount_cents=amount,
                core_charges_cents=cores,
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
        ask_warehouses_back(ctx, session, order)
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
        if po.status == "cancel_requested":
            move_po(ctx, po, PurchaseOrderEvent.cancel_answered, status_from_lines(po))
        t.record(
            ctx,
            session,
            order,
            "po_cancel_refused",
            f"{po.supplier} could not cancel {po.po_number}: {error.message}",
        )
        finish_cancellation_if_settled(ctx, session, order)
        ask_warehouses_back(ctx, session, order)
        maybe_complete(ctx, session, order)

    def on_give_up(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: str,
    ) -> None:
        _hold_given_up(
            ctx,
            session,
            command,
            order,
            lambda po: (
                f"{command.target} kept failing after {command.attempts} attempts to "
                f"cancel {po.po_number} ({error}). {charged_for(po)} charged for it stands until "
                "the warehouse answers: retry the order to ask again."
            ),
        )
