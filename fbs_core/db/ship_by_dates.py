"""Keep an order's ship-by date in step with the channel data that carries it.

A channel that knows when the marketplace expects an order shipped (eBay's
``shipByDate``) reports it as the ``ship_by`` key of the order's channel data, an ISO 8601
time with an offset. Whenever an order's channel data is set (at intake and on every
later modification) the date is copied to ``OrderRow.ship_by``, where it can be indexed,
listed and watched; data without the key, or with an unreadable one, clears it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from .models import OrderRow

SHIP_BY_KEY = "ship_by"


def parse_ship_by(channel_data: Any) -> datetime | None:
    """The ship-by time in ``channel_data``, or None if it has none or cannot be read."""
    if not isinstance(channel_data, dict):
        return None
    value = channel_data.get(SHIP_BY_KEY)
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@event.listens_for(OrderRow.channel_data, "set", propagate=True)
def _copy_ship_by(target: OrderRow, value: Any, _old: Any, _initiator: Any) -> None:
    target.ship_by = parse_ship_by(value)
