"""The eBay channel in Trading API mode (``api = "trading"``), through ebaysdk.

For sellers whose tools hold an Auth'n'Auth token. Same behaviour as the REST mode
(:mod:`.ebay_channel`: cursor with overlap, page budget with ``more``, durable state,
daily-limit pacing, account deletion), over the Trading calls:

* ``GetOrders`` by modification time (``ModTimeFrom``/``ModTimeTo``, at most 30 days
  apart), ``OrderRole=Seller``, ``OrderStatus=All``, page by page
  (``Pagination.PageNumber`` until ``PaginationResult.TotalNumberOfPages``); orders eBay
  shows shipped (``ShippedTime``) or unpaid are left out;
* ``CompleteSale`` per order line item of a parcel, with ``Shipment.
  ShipmentTrackingDetails`` (tracking number and carrier) and ``ShippedTime``; the order's
  existing tracking is read first (``GetOrders`` by ``OrderIDArray``) and a line already
  carrying the parcel's tracking number is not sent again.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from fbs_core.domain import IncomingOrder, TrackingPush, TrackingResult, UnreadableOrder
from fbs_core.errors import FatalError, RetriableError

from .ebay_carriers import ebay_carrier_code
from .ebay_channel import EbayChannel, PollCursor
from .ebay_mapping import ebay_time, parse_time
from .ebay_options import EbayOptions
from .ebay_trading_client import TradingClient, children, text
from .ebay_trading_mapping import is_shipped, map_trading_order

MAX_WINDOW = timedelta(days=30)
MAX_ENTRIES_PER_PAGE = 100


class EbayTradingChannel(EbayChannel):
    """One eBay seller account through the Trading API."""

    def __init__(
        self,
        name: str,
        options: EbayOptions,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(name, options, transport=transport, clock=clock)
        if options.auth_token is None or options.dev_id is None:  # the options refuse this
            raise FatalError("api = 'trading' needs auth_token and dev_id")
        self.trading = TradingClient(
            self.endpoints.trading,
            app_id=options.client_id.get_secret_value(),
            dev_id=options.dev_id.get_secret_value(),
            cert_id=options.client_secret.get_secret_value(),
            token=options.auth_token.get_secret_value(),
            site_id=options.site_id,
            compatibility=options.compatibility_level,
            timeout=options.timeout,
            counter=self.calls,
        )

    def store_identity(self) -> str:
        """``ebay:<seller user id>``: ``seller_id``, else ``SellerUserID`` of a recent order."""
        if self._seller_id is None:
            now = self._clock()
            root = self.trading.call(
                "GetOrders",
                {
                    "ModTimeFrom": ebay_time(now - MAX_WINDOW),
                    "ModTimeTo": ebay_time(now),
                    "OrderRole": "Seller",
                    "Pagination": {"EntriesPerPage": 1, "PageNumber": 1},
                },
            )
            seller = next(
                (
                    text(o, "SellerUserID")
                    for o in children(root, "OrderArray", "Order")
                    if text(o, "SellerUserID")
                ),
                None,
            )
            if not seller:
                raise RetriableError(
                    "eBay has no recent order to name the seller; set seller_id in the options",
                    code="identity_unknown",
                )
            self._seller_id = seller
        return f"ebay:{self._seller_id.lower()}"

    def check(self) -> str:
        """Make one GetOrders call with the token and report today's calls."""
        self._load_state()
        self.trading.call(
            "GetOrders",
            {
                "NumberOfDays": 1,
                "OrderRole": "Seller",
                "Pagination": {"EntriesPerPage": 1, "PageNumber": 1},
            },
        )
        self._report_usage()
        return self.usage_today()

    def _fetch_page(
        self, position: PollCursor, offset: int
    ) -> tuple[list[IncomingOrder | UnreadableOrder], int, bool]:
        """Page ``offset + 1`` of the pass; ``offset`` counts the pages read."""
        until = parse_time(position.started) if position.started else self._clock()
        since = parse_time(position.since) if position.since else until - MAX_WINDOW
        since = max(since, until - MAX_WINDOW)
        page_number = offset + 1
        root = self.trading.call(
            "GetOrders",
            {
                "DetailLevel": "ReturnAll",
                "OrderRole": "Seller",
                "OrderStatus": "All",
                "Pagination": {
                    "EntriesPerPage": min(self.options.page_size, MAX_ENTRIES_PER_PAGE),
                    "PageNumber": page_number,
                },
                "ModTimeFrom": ebay_time(since),
                "ModTimeTo": ebay_time(until),
            },
        )
        mapped: list[IncomingOrder | UnreadableOrder] = []
        for order in children(root, "OrderArray", "Order"):
            found = map_trading_order(order)
            if found is None:
                continue
            if isinstance(found, IncomingOrder) and is_shipped(order) and not found.cancelled:
                continue
            mapped.append(found)
        try:
            pages = int(text(root, "PaginationResult", "TotalNumberOfPages") or "1")
        except ValueError:
            pages = 1
        return mapped, page_number, page_number >= pages

    def push_tracking(self, push: TrackingPush) -> TrackingResult:
        """CompleteSale for each order line item of the parcel that lacks its tracking."""
        self._load_state()
        root = self.trading.call(
            "GetOrders",
            {"OrderIDArray": {"OrderID": [push.external_order_id]}, "OrderRole": "Seller"},
        )
        transactions = {
            text(t, "OrderLineItemID"): t
            for o in children(root, "OrderArray", "Order")
            for t in children(o, "TransactionArray", "Transaction")
        }
        carrier = ebay_carrier_code(push.shipping_carrier)
        sent = 0
        line_ids: list[str] = []
        for line in push.lines:
            line_item_id = line.channel_data.get("line_item_id") or line.line_id
            if line_item_id in line_ids:
                continue
            line_ids.append(line_item_id)
            transaction = transactions.get(line_item_id)
            if transaction is None:
                raise FatalError(
                    f"eBay order {push.external_order_id} has no line item {line_item_id}",
                    code="unknown_line_item",
                )
            numbers = {
                text(d, "ShipmentTrackingNumber")
                for d in children(transaction, "ShippingDetails", "ShipmentTrackingDetails")
            }
            if push.tracking_number in numbers:
                continue
            self.trading.call("CompleteSale", self._complete_sale(transaction, push, carrier))
            sent += 1
        return TrackingResult(
            reference=f"{push.tracking_number}:{','.join(line_ids)}", already_present=sent == 0
        )

    @staticmethod
    def _complete_sale(transaction: Any, push: TrackingPush, carrier: str) -> dict[str, Any]:
        return {
            "ItemID": text(transaction, "Item", "ItemID"),
            "TransactionID": text(transaction, "TransactionID"),
            "Shipped": "true",
            "Shipment": {
                "ShipmentTrackingDetails": {
                    "ShipmentTrackingNumber": push.tracking_number,
                    "ShippingCarrierUsed": carrier,
                },
                "ShippedTime": ebay_time(push.shipped_at),
            },
        }
