"""A local warehouse that implements the fbs warehouse API (fbs_supplier_http/openapi.yaml).

What it serves, with the document's status codes and ``{"error": {"code", "message"}}``
bodies:

* ``GET /v1/stock?part_numbers=A,B`` (1 to 100 part numbers of at most 64 characters;
  others answer 400);
* ``POST /v1/purchase-orders``: reserves stock; idempotent on ``po_number`` (same body →
  200 with the first order, other body → 409 ``po_number_conflict``); short stock → 422
  ``insufficient_stock`` with ``part_numbers`` and nothing reserved;
* ``GET /v1/purchase-orders/{po_number}`` and ``POST …/{po_number}/cancel`` (cancels what
  has not shipped, returns its stock, answers the same when repeated);
* ``GET /v1/shipments?after=&limit=``: parcels in the order they shipped behind an opaque
  cursor.

Every request needs ``Authorization: Bearer <api_key>`` (else 401). Orders ship by
themselves ``ship_delay_seconds`` after acceptance: each request first ships whatever is
due by the imitation's clock, so no background thread runs. ``advance()`` moves that clock
forward, which lets tests and the demo ship on demand. With ``split_shipments=True`` an
order of two or more lines leaves in two parcels, the second ``max(ship_delay_seconds,
1)`` seconds after the first.

Faults for tests: :meth:`WarehouseImitation.fail_next`, :meth:`~WarehouseImitation.slow_next`
and :meth:`~WarehouseImitation.malformed_next` queue up; each request takes the next one.
All state sits behind one lock, so tests may read counters while the server thread works.

The parts live in private modules: ``_state`` (stock, orders, parcels and the shipping
clock) and ``_routes`` (request bodies, dispatch and the handlers).
"""

from __future__ import annotations

import random
import threading
from collections import deque
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Route

from ._routes import (
    DEFAULT_SHIPMENT_LIMIT,
    ERROR_CODES,
    MAX_PART_NUMBERS,
    MAX_SHIPMENT_LIMIT,
    TRUNCATED_BODY,
    _Routes,
)
from ._state import CARRIERS, TRACKING_URLS, StockItem, _Fault, _Order, _Shipment, _Shipping

__all__ = [
    "CARRIERS",
    "DEFAULT_SHIPMENT_LIMIT",
    "ERROR_CODES",
    "MAX_PART_NUMBERS",
    "MAX_SHIPMENT_LIMIT",
    "TRACKING_URLS",
    "TRUNCATED_BODY",
    "StockItem",
    "WarehouseImitation",
]


class WarehouseImitation(_Shipping, _Routes):
    """A warehouse speaking the fbs warehouse API, for tests and the demo.

    Args:
        name: shown in order and shipment ids; also seeds the carrier and tracking
            numbers, so a run is reproducible.
        api_key: the only bearer token accepted.
        stock: part number → what is on the shelf.
        ship_delay_seconds: how long after acceptance an order ships.
        split_shipments: ship orders of two or more lines as two parcels.
        currency: the currency every price is in.
    """

    def __init__(
        self,
        name: str,
        api_key: str,
        *,
        stock: dict[str, StockItem] | None = None,
        ship_delay_seconds: float = 0.0,
        split_shipments: bool = False,
        currency: str = "USD",
    ) -> None:
        self.name = name
        self.currency = currency
        self.ship_delay_seconds = ship_delay_seconds
        self.split_shipments = split_shipments
        self._api_key = api_key.encode()
        self._stock: dict[str, StockItem] = dict(stock or {})
        self._orders: dict[str, _Order] = {}
        self._shipments: list[_Shipment] = []
        self._faults: deque[_Fault] = deque()
        self._clock_offset = timedelta()
        self._duplicate_effects = 0
        self._cancellations = 0
        self._random = random.Random(name)
        self._prefix = "".join(c for c in name.upper() if c.isalnum())[:6] or "WH"
        self._lock = threading.RLock()
        self.app = Starlette(
            routes=[
                Route("/v1/stock", self._endpoint(self._get_stock), methods=["GET"]),
                Route("/v1/purchase-orders", self._endpoint(self._create_order), methods=["POST"]),
                Route(
                    "/v1/purchase-orders/{po_number}",
                    self._endpoint(self._get_order),
                    methods=["GET"],
                ),
                Route(
                    "/v1/purchase-orders/{po_number}/cancel",
                    self._endpoint(self._cancel_order),
                    methods=["POST"],
                ),
                Route("/v1/shipments", self._endpoint(self._list_shipments), methods=["GET"]),
            ],
            exception_handlers={HTTPException: self._http_exception},
        )

    # -- the Python API for tests and the demo ----------------------------------------

    @property
    def purchase_orders(self) -> int:
        """Distinct purchase orders accepted."""
        with self._lock:
            return len(self._orders)

    @property
    def duplicate_effects(self) -> int:
        """Warehouse orders created for a po_number that already had one; must stay 0."""
        with self._lock:
            return self._duplicate_effects

    @property
    def cancellations(self) -> int:
        """Cancel requests that stopped at least one unit."""
        with self._lock:
            return self._cancellations

    @property
    def shipments(self) -> int:
        """Parcels shipped so far by the imitation's clock."""
        with self._lock:
            self._ship_due()
            return len(self._shipments)

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        after_effect: bool = False,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` and an error body.

        With ``after_effect=True`` each request is carried out first and only its answer
        is replaced, as when a response is lost on the way back.
        """
        fault = _Fault(
            status=status, headers=tuple((headers or {}).items()), after_effect=after_effect
        )
        with self._lock:
            self._faults.extend([fault] * times)

    def slow_next(self, seconds: float) -> None:
        """Make the next request wait ``seconds`` before it is handled."""
        with self._lock:
            self._faults.append(_Fault(delay_seconds=seconds))

    def malformed_next(self) -> None:
        """Answer the next request with 200 and a truncated JSON body."""
        with self._lock:
            self._faults.append(_Fault(malformed=True))

    def set_stock(self, part_number: str, item: StockItem) -> None:
        """Put ``item`` on the shelf under ``part_number``, replacing what was there."""
        with self._lock:
            self._stock[part_number] = item

    def stock_of(self, part_number: str) -> StockItem | None:
        """What is on the shelf for ``part_number`` now, or None if not carried."""
        with self._lock:
            return self._stock.get(part_number)

    def order(self, po_number: str) -> dict[str, Any] | None:
        """The order as ``GET /v1/purchase-orders/{po_number}`` would show it, or None."""
        with self._lock:
            self._ship_due()
            found = self._orders.get(po_number)
            return found.to_json(self.currency) if found else None
