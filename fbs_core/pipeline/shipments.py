"""Record parcels warehouses report and queue their tracking for the channel."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..adapters import TrackingSink
from ..db import repository as repo
from ..db.models import ShipmentRow
from ..domain import ShipmentNotice, TrackingLine, TrackingPush
from ..domain.po_lifecycle import PurchaseOrderEvent
from . import identifiers
from . import transitions as t
from .command_payloads import PushTrackingPayload
from .context import PipelineContext
from .po_transitions import move_po, status_from_lines
from .progress import fully_resolved, update_shipping_status

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log_name = "fbs.shipments"


def record_shipments(
    ctx: PipelineContext, session: Session, supplier: str, notices: tuple[ShipmentNotice, ...]
) -> Counter[str]:
    """Store new parcels (each once), update quantities and queue tracking pushes."""
    outcomes: Counter[str] = Counter()
    for notice in notices:
        if repo.shipment_exists(session, ctx.merchant_id, supplier, notice.shipment_id):
            outcomes["unchanged"] += 1
            continue
        po = repo.purchase_order_by_number(session, ctx.merchant_id, notice.po_number)
        if po is None or po.supplier != supplier:
            outcomes["unknown_po"] += 1
            continue
        order = repo.get_order(session, ctx.merchant_id, po.order_id, lock=True)
        if order is None:
            outcomes["unknown_po"] += 1
            continue
        tracking_lines = _allocate(po, order, notice)
        row = ShipmentRow(
            merchant_id=ctx.merchant_id,
            order_id=order.id,
            purchase_order_id=po.id,
            supplier=supplier,
            shipment_id=notice.shipment_id,
            carrier=notice.carrier,
            tracking_number=notice.tracking_number,
            tracking_url=notice.tracking_url,
            shipped_at=notice.shipped_at,
            lines=[line.model_dump() for line in tracking_lines],
            created_at=ctx.now(),
        )
        session.add(row)
        session.flush()
        move_po(ctx, po, PurchaseOrderEvent.parcel_recorded, status_from_lines(po))
        t.record(
            ctx,
            session,
            order,
            "shipped",
            f"{supplier} shipped {po.po_number} with {notice.carrier} {notice.tracking_number}.",
            data={"tracking_number": notice.tracking_number, "carrier": notice.carrier},
        )
        update_shipping_status(
            ctx, session, order, f"Parcel {notice.tracking_number} is on its way."
        )
        push = TrackingPush(
            idempotency_key=identifiers.tracking_key(ctx, supplier, notice.shipment_id),
            external_order_id=order.external_id,
            carrier=notice.carrier,
            tracking_number=notice.tracking_number,
            shipped_at=notice.shipped_at,
            lines=tuple(tracking_lines),
            completes_order=fully_resolved(order),
            tracking_url=notice.tracking_url,
            channel_data=order.channel_data or {},
        )
        for target in _sinks(ctx, order.channel):
            t.enqueue(
                ctx,
                session,
                order,
                target=target,
                key=f"{push.idempotency_key}:{target}",
                payload=PushTrackingPayload(push=push, shipment_row_id=row.id),
            )
        if _takes_no_tracking(ctx, order.channel):
            row.tracking_pushed = True  # the channel takes no tracking; nothing to wait for
        outcomes["new"] += 1
    return outcomes


def _allocate(po, order, notice: ShipmentNotice) -> list[TrackingLine]:  # noqa: ANN001
    """Add shipped quantities to the PO and order lines; return the channel lines shipped."""
    shipped: list[TrackingLine] = []
    for item in notice.lines:
        remaining = item.quantity
        for line in po.lines:
            if line.sku != item.sku or remaining <= 0:
                continue
            qty = min(remaining, line.quantity - line.shipped_quantity - line.cancelled_quantity)
            if qty <= 0:
                continue
            line.shipped_quantity += qty
            remaining -= qty
            channel_data: dict[str, str] = {}
            for order_line in order.lines:
                if order_line.line_id == line.line_id:
                    order_line.shipped_quantity += qty
                    channel_data = order_line.channel_data or {}
            shipped.append(
                TrackingLine(
                    line_id=line.line_id, sku=line.sku, quantity=qty, channel_data=channel_data
                )
            )
    return shipped


def _takes_no_tracking(ctx: PipelineContext, channel: str) -> bool:
    """Whether the order's channel is configured here and takes no tracking.

    A channel this process does not have (another process sharing the merchant has it)
    gets the push; that process carries it out.
    """
    adapter = ctx.runtime.channels.get(channel)
    return adapter is not None and not isinstance(adapter, TrackingSink)


def _sinks(ctx: PipelineContext, channel: str) -> list[str]:
    """Where a parcel's tracking goes: the order's channel, then every ``[tracking]`` sink.

    A channel this process does not have still gets its push: another process sharing
    the merchant carries it out, or, with none, it waits for the channel to be configured.
    """
    targets = [] if _takes_no_tracking(ctx, channel) else [channel]
    return targets + sorted(ctx.runtime.tracking)
