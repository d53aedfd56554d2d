"""One handler per outbox command kind."""

from __future__ import annotations

from .base import Command, Handler
from .charging import ChargeHandler
from .purchasing import CancelPurchaseOrderHandler, PlacePurchaseOrderHandler
from .refunds import RefundHandler
from .side import AcknowledgeHandler, NotifyHandler
from .sourcing import SourceHandler
from .tracking import PushTrackingHandler

HANDLERS: dict[str, Handler] = {
    handler.kind: handler
    for handler in (
        SourceHandler(),
        ChargeHandler(),
        PlacePurchaseOrderHandler(),
        CancelPurchaseOrderHandler(),
        PushTrackingHandler(),
        RefundHandler(),
        AcknowledgeHandler(),
        NotifyHandler(),
    )
}
"""Command kind → its handler."""

__all__ = ["HANDLERS", "Command", "Handler"]
