"""Purchase-order status changes, each through the table in :mod:`fbs_core.domain.po_lifecycle`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..domain.po_lifecycle import PurchaseOrderEvent, next_po_status
from ..domain.purchasing import PurchaseOrderStatus
from .context import PipelineContext

if TYPE_CHECKING:
    from ..db.models import PurchaseOrderRow


def move_po(
    ctx: PipelineContext,
    po: PurchaseOrderRow,
    event: PurchaseOrderEvent,
    outcome: PurchaseOrderStatus | None = None,
) -> None:
    """Apply ``event`` to ``po``; raises if the table says it cannot happen."""
    po.status = next_po_status(PurchaseOrderStatus(po.status), event, outcome)
    po.updated_at = ctx.now()


def status_from_lines(po: PurchaseOrderRow) -> PurchaseOrderStatus:
    """What a PO's lines say it is once a parcel or a cancel answer is recorded."""
    if all(line.cancelled_quantity >= line.quantity for line in po.lines):
        return PurchaseOrderStatus.cancelled
    if all(line.shipped_quantity + line.cancelled_quantity >= line.quantity for line in po.lines):
        return PurchaseOrderStatus.shipped
    if any(line.shipped_quantity for line in po.lines):
        return PurchaseOrderStatus.partially_shipped
    return PurchaseOrderStatus.placed
