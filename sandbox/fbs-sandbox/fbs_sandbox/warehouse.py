"""A local warehouse that implements the fbs warehouse API (fbs_supplier_http/openapi.yaml).

What it serves, with the document's status codes and ``{"error": {"code", "message"}}``
bodies:

* ``GET /v1/stock?part_numbers=A,B`` (1 to 100 part numbers; others answer 400);
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
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import random
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MAX_PART_NUMBERS = 100
DEFAULT_SHIPMENT_LIMIT = 50
MAX_SHIPMENT_LIMIT = 100
CARRIERS = ("UPS", "FedEx", "USPS")
TRUNCATED_BODY = b'{"currency": "USD", "items": [{"part_nu'
"""What :meth:`WarehouseImitation.malformed_next` answers: JSON cut off mid-way."""
TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
}
ERROR_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "unprocessable",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
}


@dataclass(frozen=True)
class StockItem:
    """One part the warehouse carries: units on the shelf and what one costs."""

    quantity: int
    unit_cost_cents: int
    core_charge_cents: int = 0
    weight_grams: int = 1000


# -- request bodies --------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _AddressIn(_Strict):
    name: StrictStr = Field(min_length=1)
    company: StrictStr | None = None
    line1: StrictStr = Field(min_length=1)
    line2: StrictStr | None = None
    city: StrictStr = Field(min_length=1)
    region: StrictStr = Field(min_length=1)
    postal_code: StrictStr = Field(min_length=1)
    country: StrictStr = Field(pattern=r"^[A-Z]{2}$")
    phone: StrictStr | None = None


class _LineIn(_Strict):
    part_number: StrictStr = Field(min_length=1, max_length=64)
    quantity: StrictInt = Field(ge=1)
    expected_unit_cost_cents: StrictInt = Field(ge=0)
    expected_core_charge_cents: StrictInt = Field(ge=0)


class _PurchaseOrderIn(_Strict):
    po_number: StrictStr = Field(min_length=1, max_length=64)
    reference: StrictStr = Field(max_length=100)
    ship_to: _AddressIn
    lines: tuple[_LineIn, ...] = Field(min_length=1, max_length=100)


# -- state -----------------------------------------------------------------------------


@dataclass
class _Line:
    part_number: str
    quantity: int
    unit_cost_cents: int
    core_charge_cents: int
    shipped: int = 0
    cancelled: int = 0

    @property
    def open(self) -> int:
        return self.quantity - self.shipped - self.cancelled


@dataclass
class _Parcel:
    ship_at: datetime
    part_numbers: tuple[str, ...]


@dataclass
class _Order:
    sequence: int
    po_number: str
    warehouse_order_id: str
    reference: str
    body: dict[str, Any]
    created_at: datetime
    lines: list[_Line]
    parcels: list[_Parcel] = field(default_factory=list)

    @property
    def status(self) -> str:
        shipped = sum(x.shipped for x in self.lines)
        open_units = sum(x.open for x in self.lines)
        if shipped == 0:
            return "accepted" if open_units else "cancelled"
        return "partially_shipped" if open_units else "shipped"

    def to_json(self, currency: str) -> dict[str, Any]:
        return {
            "po_number": self.po_number,
            "warehouse_order_id": self.warehouse_order_id,
            "reference": self.reference,
            "status": self.status,
            "currency": currency,
            "created_at": _rfc3339(self.created_at),
            "lines": [
                {
                    "part_number": x.part_number,
                    "quantity": x.quantity,
                    "unit_cost_cents": x.unit_cost_cents,
                    "core_charge_cents": x.core_charge_cents,
                    "shipped_quantity": x.shipped,
                    "cancelled_quantity": x.cancelled,
                }
                for x in self.lines
            ],
        }


@dataclass(frozen=True)
class _Shipment:
    shipment_id: str
    po_number: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: tuple[tuple[str, int], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "shipment_id": self.shipment_id,
            "po_number": self.po_number,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "tracking_url": TRACKING_URLS[self.carrier].format(self.tracking_number),
            "shipped_at": _rfc3339(self.shipped_at),
            "lines": [{"part_number": p, "quantity": q} for p, q in self.lines],
        }


@dataclass(frozen=True)
class _Fault:
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    after_effect: bool = False
    delay_seconds: float = 0.0
    malformed: bool = False


class _Refusal(Exception):
    """An API error answer, raised inside a handler and rendered by the dispatcher."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}},
        status_code=status,
        headers=headers,
    )


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class WarehouseImitation:
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

    def now(self) -> datetime:
        """The imitation's clock: real UTC time plus everything :meth:`advance` added."""
        with self._lock:
            return datetime.now(UTC) + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward, so orders due within ``seconds`` ship on the next request."""
        with self._lock:
            self._clock_offset += timedelta(seconds=seconds)

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

    # -- dispatch -----------------------------------------------------------------------

    def _endpoint(
        self, handler: Callable[[Request, bytes], Response]
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap a handler with fault injection, auth, lazy shipping and the lock."""

        async def endpoint(request: Request) -> Response:
            with self._lock:
                fault = self._faults.popleft() if self._faults else _Fault()
            if fault.delay_seconds:
                await asyncio.sleep(fault.delay_seconds)
            if fault.malformed:
                return Response(TRUNCATED_BODY, media_type="application/json")
            if fault.status is not None and not fault.after_effect:
                return self._fault_response(fault)
            if not self._authorized(request):
                return _error(
                    401,
                    "unauthorized",
                    "A valid API key is required.",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            body = await request.body()
            try:
                with self._lock:
                    self._ship_due()
                    response = handler(request, body)
            except _Refusal as refusal:
                response = _error(refusal.status, refusal.code, refusal.message, **refusal.extra)
            return self._fault_response(fault) if fault.status is not None else response

        return endpoint

    @staticmethod
    def _fault_response(fault: _Fault) -> JSONResponse:
        status = fault.status or 500
        return _error(
            status,
            ERROR_CODES.get(status, "injected_failure"),
            f"Simulated HTTP {status} from the warehouse.",
            headers=dict(fault.headers),
        )

    async def _http_exception(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        code = ERROR_CODES.get(status, "error")
        return _error(status, code, f"{request.method} {request.url.path}: HTTP {status}.")

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self._api_key
        )

    # -- handlers (called with the lock held) -----------------------------------------

    def _get_stock(self, request: Request, body: bytes) -> Response:
        raw = request.query_params.get("part_numbers")
        if not raw:
            raise _Refusal(400, "invalid_request", "part_numbers is required.")
        wanted = raw.split(",")
        if any(not p for p in wanted):
            raise _Refusal(400, "invalid_request", "part_numbers has an empty part number.")
        if len(wanted) > MAX_PART_NUMBERS:
            raise _Refusal(
                400, "invalid_request", f"part_numbers takes at most {MAX_PART_NUMBERS}."
            )
        items = [
            {
                "part_number": p,
                "quantity_available": item.quantity,
                "unit_cost_cents": item.unit_cost_cents,
                "core_charge_cents": item.core_charge_cents,
                "weight_grams": item.weight_grams,
            }
            for p in dict.fromkeys(wanted)
            if (item := self._stock.get(p)) is not None
        ]
        return JSONResponse({"currency": self.currency, "items": items})

    def _create_order(self, request: Request, body: bytes) -> Response:
        try:
            document = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Refusal(400, "invalid_request", "The body is not JSON.") from None
        try:
            order_in = _PurchaseOrderIn.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise _Refusal(400, "invalid_request", f"{where}: {first['msg']}.") from None
        part_numbers = [x.part_number for x in order_in.lines]
        if len(set(part_numbers)) != len(part_numbers):
            raise _Refusal(400, "invalid_request", "A part number appears on two lines.")
        existing = self._orders.get(order_in.po_number)
        if existing is not None:
            if existing.body != document:
                raise _Refusal(
                    409,
                    "po_number_conflict",
                    f"Purchase order {order_in.po_number} already exists with different contents.",
                )
            return JSONResponse(existing.to_json(self.currency), status_code=200)
        short = [
            x.part_number
            for x in order_in.lines
            if (item := self._stock.get(x.part_number)) is None or item.quantity < x.quantity
        ]
        if short:
            raise _Refusal(
                422,
                "insufficient_stock",
                f"Not enough stock for {', '.join(short)}.",
                part_numbers=short,
            )
        order = self._accept(order_in, document)
        return JSONResponse(order.to_json(self.currency), status_code=201)

    def _accept(self, order_in: _PurchaseOrderIn, document: dict[str, Any]) -> _Order:
        if order_in.po_number in self._orders:
            self._duplicate_effects += 1
        lines = []
        for x in order_in.lines:
            item = self._stock[x.part_number]
            self._stock[x.part_number] = _with_quantity(item, item.quantity - x.quantity)
            lines.append(
                _Line(x.part_number, x.quantity, item.unit_cost_cents, item.core_charge_cents)
            )
        sequence = len(self._orders) + self._duplicate_effects + 1
        created = self.now()
        order = _Order(
            sequence=sequence,
            po_number=order_in.po_number,
            warehouse_order_id=f"WO-{self._prefix}-{sequence:06d}",
            reference=order_in.reference,
            body=document,
            created_at=created,
            lines=lines,
            parcels=self._plan_parcels(created, tuple(x.part_number for x in lines)),
        )
        self._orders[order.po_number] = order
        return order

    def _plan_parcels(self, created: datetime, part_numbers: tuple[str, ...]) -> list[_Parcel]:
        first_at = created + timedelta(seconds=self.ship_delay_seconds)
        if not self.split_shipments or len(part_numbers) < 2:
            return [_Parcel(first_at, part_numbers)]
        half = (len(part_numbers) + 1) // 2
        second_at = first_at + timedelta(seconds=max(self.ship_delay_seconds, 1.0))
        return [_Parcel(first_at, part_numbers[:half]), _Parcel(second_at, part_numbers[half:])]

    def _get_order(self, request: Request, body: bytes) -> Response:
        return JSONResponse(self._find(request).to_json(self.currency))

    def _cancel_order(self, request: Request, body: bytes) -> Response:
        order = self._find(request)
        stopped = 0
        for line in order.lines:
            units = line.open
            if units:
                line.cancelled += units
                stopped += units
                item = self._stock.get(line.part_number)
                if item is not None:
                    self._stock[line.part_number] = _with_quantity(item, item.quantity + units)
        order.parcels.clear()
        if stopped:
            self._cancellations += 1
        return JSONResponse(
            {
                "po_number": order.po_number,
                "status": order.status,
                "cancelled_lines": [
                    {"part_number": x.part_number, "quantity": x.cancelled}
                    for x in order.lines
                    if x.cancelled
                ],
            }
        )

    def _find(self, request: Request) -> _Order:
        po_number = request.path_params["po_number"]
        order = self._orders.get(po_number)
        if order is None:
            raise _Refusal(404, "po_not_found", f"There is no purchase order {po_number}.")
        return order

    def _list_shipments(self, request: Request, body: bytes) -> Response:
        after = request.query_params.get("after")
        position = self._decode_cursor(after) if after is not None else 0
        raw_limit = request.query_params.get("limit", str(DEFAULT_SHIPMENT_LIMIT))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_SHIPMENT_LIMIT:
            raise _Refusal(
                400, "invalid_request", f"limit must be an integer from 1 to {MAX_SHIPMENT_LIMIT}."
            )
        page = self._shipments[position : position + int(raw_limit)]
        end = position + len(page)
        return JSONResponse(
            {
                "shipments": [s.to_json() for s in page],
                "next_cursor": self._encode_cursor(end),
                "has_more": end < len(self._shipments),
            }
        )

    # -- cursor, shipping, tracking numbers -------------------------------------------

    def _encode_cursor(self, position: int) -> str:
        raw = f"{self._prefix}:{position}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode_cursor(self, cursor: str) -> int:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            prefix, _, position = base64.urlsafe_b64decode(padded).decode().partition(":")
            value = int(position)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            value = -1
            prefix = ""
        if prefix != self._prefix or not 0 <= value <= len(self._shipments):
            raise _Refusal(400, "invalid_cursor", "The cursor is not one this warehouse issued.")
        return value

    def _ship_due(self) -> None:
        now = self.now()
        due = sorted(
            (
                (parcel.ship_at, order.sequence, order, parcel)
                for order in self._orders.values()
                for parcel in order.parcels
                if parcel.ship_at <= now
            ),
            key=lambda entry: (entry[0], entry[1]),
        )
        for ship_at, _, order, parcel in due:
            order.parcels.remove(parcel)
            contents = []
            for line in order.lines:
                if line.part_number in parcel.part_numbers and line.open:
                    contents.append((line.part_number, line.open))
                    line.shipped += line.open
            if contents:
                self._record_shipment(order.po_number, ship_at, tuple(contents))

    def _record_shipment(
        self, po_number: str, shipped_at: datetime, lines: tuple[tuple[str, int], ...]
    ) -> None:
        carrier = self._random.choice(CARRIERS)
        self._shipments.append(
            _Shipment(
                shipment_id=f"SHP-{self._prefix}-{len(self._shipments) + 1:06d}",
                po_number=po_number,
                carrier=carrier,
                tracking_number=self._tracking_number(carrier),
                shipped_at=shipped_at,
                lines=lines,
            )
        )

    def _tracking_number(self, carrier: str) -> str:
        digits = "".join(self._random.choices("0123456789", k=21))
        if carrier == "FedEx":
            return digits[:12]
        if carrier == "USPS":
            body = "9400" + digits[:17]
            return body + str(_mod10(body, weights=(3, 1)))
        shipper = "".join(self._random.choices("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", k=6))
        body = shipper + "03" + digits[:7]
        return "1Z" + body + str(_ups_check_digit(body))


def _with_quantity(item: StockItem, quantity: int) -> StockItem:
    return StockItem(quantity, item.unit_cost_cents, item.core_charge_cents, item.weight_grams)


def _mod10(digits: str, *, weights: tuple[int, int]) -> int:
    """USPS check digit: weights alternate from the rightmost digit."""
    total = sum(int(d) * weights[i % 2] for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def _ups_check_digit(body: str) -> int:
    """UPS check digit over the 15 characters after ``1Z``; letters count as (ord-63) mod 10."""
    values = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in body]
    total = sum(v * (2 if i % 2 else 1) for i, v in enumerate(values))
    return (10 - total % 10) % 10
