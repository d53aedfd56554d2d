"""The HTTP API: request bodies, dispatch with faults and auth, and the handlers.

Every request needs ``Authorization: Bearer <api_key>`` (else 401). Errors have the
document's ``{"error": {"code", "message"}}`` shape.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._state import StockItem, _Fault, _Line, _Order, _Shipment, _with_quantity

MAX_PART_NUMBERS = 100
MAX_PART_NUMBER_LENGTH = 64
"""openapi.yaml ``PartNumber``: ``maxLength: 64``, in the stock query as in order lines."""
DEFAULT_SHIPMENT_LIMIT = 50
MAX_SHIPMENT_LIMIT = 100
TRUNCATED_BODY = b'{"currency": "USD", "items": [{"part_nu'
"""What :meth:`WarehouseImitation.malformed_next` answers: JSON cut off mid-way."""
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
    part_number: StrictStr = Field(min_length=1, max_length=MAX_PART_NUMBER_LENGTH)
    quantity: StrictInt = Field(ge=1)
    expected_unit_cost_cents: StrictInt = Field(ge=0)
    expected_core_charge_cents: StrictInt = Field(ge=0)


class _PurchaseOrderIn(_Strict):
    po_number: StrictStr = Field(min_length=1, max_length=64)
    reference: StrictStr = Field(max_length=100)
    ship_to: _AddressIn
    lines: tuple[_LineIn, ...] = Field(min_length=1, max_length=100)


class _KeepLineIn(_Strict):
    part_number: StrictStr = Field(min_length=1, max_length=MAX_PART_NUMBER_LENGTH)
    quantity: StrictInt = Field(ge=0)


class _CancelIn(_Strict):
    keep: tuple[_KeepLineIn, ...] = Field(min_length=1)


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


class _Routes:
    """Starlette endpoints over the warehouse's state."""

    currency: str
    _api_key: bytes
    _stock: dict[str, StockItem]
    _orders: dict[str, _Order]
    _shipments: list[_Shipment]
    _faults: deque[_Fault]
    _duplicate_effects: int
    _cancellations: int
    _prefix: str
    _lock: threading.RLock

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
        too_long = next((p for p in wanted if len(p) > MAX_PART_NUMBER_LENGTH), None)
        if too_long is not None:
            raise _Refusal(
                400,
                "invalid_request",
                f"part_numbers: {too_long!r} is longer than {MAX_PART_NUMBER_LENGTH} characters.",
            )
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

    def _get_order(self, request: Request, body: bytes) -> Response:
        return JSONResponse(self._find(request).to_json(self.currency))

    def _cancel_order(self, request: Request, body: bytes) -> Response:
        order = self._find(request)
        keep = self._keep(order, body)
        stopped = 0
        for line in order.lines:
            wanted = keep.get(line.part_number, 0) if keep is not None else 0
            if keep is not None and line.part_number not in keep:
                continue
            units = max(0, min(line.open, line.quantity - line.cancelled - wanted))
            if units:
                line.cancelled += units
                stopped += units
                item = self._stock.get(line.part_number)
                if item is not None:
                    self._stock[line.part_number] = _with_quantity(item, item.quantity + units)
        if not any(line.open for line in order.lines):
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

    @staticmethod
    def _keep(order: _Order, body: bytes) -> dict[str, int] | None:
        """The body's ``keep`` as part number → units, or None when there is no body."""
        if not body.strip():
            return None
        try:
            cancel_in = _CancelIn.model_validate(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Refusal(400, "invalid_request", "The body is not JSON.") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise _Refusal(400, "invalid_request", f"{where}: {first['msg']}.") from None
        keep = {x.part_number: x.quantity for x in cancel_in.keep}
        on_order = {line.part_number for line in order.lines}
        unknown = sorted(set(keep) - on_order)
        if unknown:
            raise _Refusal(
                400,
                "invalid_request",
                f"{unknown[0]} is not on purchase order {order.po_number}.",
                part_numbers=unknown,
            )
        return keep

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

    # -- cursor ---------------------------------------------------------------------------

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
