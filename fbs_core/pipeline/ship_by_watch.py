"""Warn before an order misses its ship-by date.

Marketplaces judge sellers on tracking uploaded in time (eBay's ship-by date). For every
open order with a ship-by date the watch raises, once per kind of risk, a
``ship_by_at_risk`` timeline event (which the ``fbs_order_ship_by_at_risk`` notification
hook receives) and a log warning, when:

* no purchase order was placed ``ship_by_po_hours`` after the order was imported
  (``no_purchase_order``), or
* no tracking has reached the channel one business day before the ship-by date
  (``no_tracking``).

It runs with every scheduler tick and every pass of ``run_until_idle``; a warning already
given for an order is not repeated.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select

from ..db.models import OrderRow, TimelineEventRow
from ..domain import OrderStatus
from . import transitions as t

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .context import PipelineContext

log = logging.getLogger("fbs.ship_by")

AT_RISK_EVENT = "ship_by_at_risk"
BEFORE_PURCHASE_ORDER = frozenset(
    {
        OrderStatus.received,
        OrderStatus.held,
        OrderStatus.approved,
        OrderStatus.sourced,
        OrderStatus.charged,
    }
)
WITHOUT_ALL_TRACKING = BEFORE_PURCHASE_ORDER | {OrderStatus.ordered, OrderStatus.partially_shipped}


class ShipByRisk(StrEnum):
    """Why an order may miss its ship-by date."""

    no_purchase_order = "no_purchase_order"
    no_tracking = "no_tracking"


def business_day_before(moment: datetime) -> datetime:
    """The same time one business day (Monday to Friday) earlier."""
    earlier = moment - timedelta(days=1)
    while earlier.weekday() >= 5:
        earlier -= timedelta(days=1)
    return earlier


def risk_of(row: OrderRow, now: datetime, po_hours: int) -> tuple[ShipByRisk, str] | None:
    """The risk the order runs now, with a sentence for the merchant, or None."""
    if row.ship_by is None:
        return None
    status = OrderStatus(row.status)
    when = row.ship_by.strftime("%Y-%m-%d %H:%M %Z")
    if status in WITHOUT_ALL_TRACKING and now >= business_day_before(row.ship_by):
        return (
            ShipByRisk.no_tracking,
            f"Order {row.number} must ship by {when} and its tracking is not on the channel yet.",
        )
    if status in BEFORE_PURCHASE_ORDER and now >= row.created_at + timedelta(hours=po_hours):
        return (
            ShipByRisk.no_purchase_order,
            f"Order {row.number} must ship by {when} and no purchase order was placed "
            f"{po_hours} h after it arrived.",
        )
    return None


def watch_ship_by(ctx: PipelineContext, session: Session) -> int:
    """Record a warning on each open order that newly runs a risk; return how many."""
    now = ctx.now()
    rows = session.scalars(
        select(OrderRow).where(
            OrderRow.merchant_id == ctx.merchant_id,
            OrderRow.ship_by.is_not(None),
            OrderRow.status.in_([s.value for s in WITHOUT_ALL_TRACKING]),
        )
    ).all()
    warned = 0
    for row in rows:
        found = risk_of(row, now, ctx.rules.ship_by_po_hours)
        if found is None:
            continue
        risk, message = found
        given = session.scalars(
            select(TimelineEventRow.data).where(
                TimelineEventRow.order_id == row.id, TimelineEventRow.event == AT_RISK_EVENT
            )
        ).all()
        if any((data or {}).get("risk") == risk.value for data in given):
            continue
        t.record(
            ctx,
            session,
            row,
            AT_RISK_EVENT,
            message,
            data={"risk": risk.value, "ship_by": row.ship_by.isoformat() if row.ship_by else None},
        )
        log.warning("%s", message)
        warned += 1
    return warned
