"""pydantic domain models: the only shapes plugins see.

Money is integer cents plus a currency; datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from .addresses import Address
from .money import Money, total
from .orders import (
    FINAL_STATUSES,
    BuyerTotals,
    IncomingLine,
    IncomingOrder,
    Order,
    OrderBatch,
    OrderLine,
    OrderStatus,
    TimelineEvent,
    UnreadableOrder,
)
from .payments import (
    Charge,
    ChargeBreakdown,
    ChargeRequest,
    ChargeResult,
    RefundRequest,
    RefundResult,
)
from .purchasing import (
    CancelResult,
    PartNumberRules,
    PurchaseOrder,
    PurchaseOrderAck,
    PurchaseOrderLine,
    PurchaseOrderRequest,
    PurchaseOrderStatus,
    Shipment,
    ShipmentBatch,
    ShipmentLine,
    ShipmentNotice,
    merge_lines,
)
from .rules import FulfillmentRules, Mode, NoStockPolicy
from .sourcing import NoPlan, Offer, PlanLeg, PlanLine, SourcingPlan
from .tracking import TrackingLine, TrackingPush, TrackingResult

__all__ = [
    "FINAL_STATUSES",
    "FulfillmentRules",
    "Mode",
    "NoStockPolicy",
    "Address",
    "BuyerTotals",
    "CancelResult",
    "Charge",
    "ChargeBreakdown",
    "ChargeRequest",
    "ChargeResult",
    "IncomingLine",
    "IncomingOrder",
    "Money",
    "NoPlan",
    "Offer",
    "Order",
    "OrderBatch",
    "OrderLine",
    "OrderStatus",
    "PlanLeg",
    "PlanLine",
    "PurchaseOrder",
    "PurchaseOrderAck",
    "PartNumberRules",
    "PurchaseOrderLine",
    "PurchaseOrderRequest",
    "PurchaseOrderStatus",
    "RefundRequest",
    "RefundResult",
    "Shipment",
    "ShipmentBatch",
    "ShipmentLine",
    "ShipmentNotice",
    "SourcingPlan",
    "TimelineEvent",
    "TrackingLine",
    "TrackingPush",
    "TrackingResult",
    "UnreadableOrder",
    "merge_lines",
    "total",
]
