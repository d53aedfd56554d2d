"""Pure translation between the warehouse API's JSON (openapi.yaml) and fbs domain objects.

Nothing here does I/O. Responses are read through small pydantic models of the wire
format, so a warehouse answer that breaks the contract raises :class:`MalformedResponse`
with a sentence saying which field, never a ``KeyError`` deep in the adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from fbs_core.domain import (
    Address,
    CancelResult,
    Money,
    Offer,
    PurchaseOrderAck,
    PurchaseOrderLine,
    PurchaseOrderRequest,
    ShipmentLine,
    ShipmentNotice,
)
from fbs_core.errors import FatalError

REQUIRED_ADDRESS_FIELDS = ("name", "line1", "city", "region", "postal_code", "country")
OPTIONAL_ADDRESS_FIELDS = ("company", "line2", "phone")


class MalformedResponse(ValueError):
    """A warehouse answer that does not match openapi.yaml."""


class _Wire(BaseModel):
    # Unknown fields are ignored: the API promises clients may skip what they don't know.
    model_config = ConfigDict(extra="ignore", frozen=True)


class _StockItem(_Wire):
    part_number: str
    quantity_available: int = Field(ge=0)
    unit_cost_cents: int = Field(ge=0)
    core_charge_cents: int = Field(ge=0)
    weight_grams: int = Field(ge=1)


class _StockList(_Wire):
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    items: tuple[_StockItem, ...]


class _OrderLine(_Wire):
    part_number: str
    quantity: int = Field(ge=1)
    unit_cost_cents: int = Field(ge=0)
    core_charge_cents: int = Field(ge=0)


class _Order(_Wire):
    po_number: str
    warehouse_order_id: str = Field(min_length=1)
    status: str
    currency: str | None = None
    lines: tuple[_OrderLine, ...]


class _QuantityLine(_Wire):
    part_number: str
    quantity: int = Field(ge=1)


class _Shipment(_Wire):
    shipment_id: str = Field(min_length=1)
    po_number: str
    carrier: str = Field(min_length=1)
    tracking_number: str = Field(min_length=1)
    tracking_url: str | None = None
    shipped_at: AwareDatetime
    lines: tuple[_QuantityLine, ...] = Field(min_length=1)


class _ShipmentPage(_Wire):
    shipments: tuple[_Shipment, ...]
    next_cursor: str = Field(min_length=1)
    has_more: bool = False


class _CancelResult(_Wire):
    po_number: str
    status: str
    cancelled_lines: tuple[_QuantityLine, ...]


class ShipmentPage(BaseModel):
    """One page of ``GET /v1/shipments`` in domain terms."""

    model_config = ConfigDict(frozen=True)

    shipments: tuple[ShipmentNotice, ...]
    next_cursor: str
    has_more: bool


_M = TypeVar("_M", bound=_Wire)


def _parse(model: type[_M], payload: Any, what: str) -> _M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise MalformedResponse(
            f"the warehouse's {what} answer breaks the API contract at {where}: {first['msg']}"
        ) from None


def _check_currency(actual: str | None, expected: str) -> None:
    if actual is not None and actual != expected:
        raise FatalError(
            f"the warehouse prices in {actual} but this supplier is configured for {expected}; "
            f"set options.currency = {actual!r} or ask the warehouse for a {expected} account",
            code="currency_mismatch",
        )


def offers_from_stock(
    payload: Any, *, supplier: str, ship_from_zip: str, currency: str
) -> list[Offer]:
    """Map a ``GET /v1/stock`` answer to offers, one per carried part."""
    stock = _parse(_StockList, payload, "stock")
    _check_currency(stock.currency, currency)
    return [
        Offer(
            supplier=supplier,
            sku=item.part_number,
            available=item.quantity_available,
            unit_cost=Money(cents=item.unit_cost_cents, currency=stock.currency),
            core_charge=Money(cents=item.core_charge_cents, currency=stock.currency),
            ship_from_zip=ship_from_zip,
            weight_grams=item.weight_grams,
        )
        for item in stock.items
    ]


def address_body(address: Address) -> dict[str, str]:
    """Map a ship-to address to the API's ``ship_to`` object.

    Raises:
        FatalError: ``invalid_address`` when a field the label needs is missing.
    """
    missing = [f for f in REQUIRED_ADDRESS_FIELDS if not (getattr(address, f) or "").strip()]
    if missing:
        raise FatalError(
            f"the ship-to address lacks {', '.join(missing)}, which the warehouse needs "
            "for the label",
            code="invalid_address",
        )
    body = {f: str(getattr(address, f)).strip() for f in REQUIRED_ADDRESS_FIELDS}
    body["country"] = body["country"].upper()
    for field in OPTIONAL_ADDRESS_FIELDS:
        value = (getattr(address, field) or "").strip()
        if value:
            body[field] = value
    return body


def purchase_order_body(request: PurchaseOrderRequest) -> dict[str, Any]:
    """Map a purchase order request to the body of ``POST /v1/purchase-orders``."""
    return {
        "po_number": request.po_number,
        "reference": request.order_reference,
        "ship_to": address_body(request.ship_to),
        "lines": [
            {
                "part_number": line.sku,
                "quantity": line.quantity,
                "expected_unit_cost_cents": line.unit_cost.cents,
                "expected_core_charge_cents": line.core_charge.cents,
            }
            for line in request.lines
        ],
    }


def ack_from_order(payload: Any, *, currency: str) -> PurchaseOrderAck:
    """Map a purchase order answer (201 or 200 replay) to an acknowledgement."""
    order = _parse(_Order, payload, "purchase order")
    _check_currency(order.currency, currency)
    return PurchaseOrderAck(
        po_number=order.po_number,
        supplier_reference=order.warehouse_order_id,
        lines=tuple(
            PurchaseOrderLine(
                sku=line.part_number,
                quantity=line.quantity,
                unit_cost=Money(cents=line.unit_cost_cents, currency=currency),
                core_charge=Money(cents=line.core_charge_cents, currency=currency),
            )
            for line in order.lines
        ),
    )


def _shipment_notice(shipment: _Shipment) -> ShipmentNotice:
    return ShipmentNotice(
        shipment_id=shipment.shipment_id,
        po_number=shipment.po_number,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        tracking_url=shipment.tracking_url,
        shipped_at=shipment.shipped_at,
        lines=tuple(ShipmentLine(sku=x.part_number, quantity=x.quantity) for x in shipment.lines),
    )


def shipment_page(payload: Any) -> ShipmentPage:
    """Map one ``GET /v1/shipments`` answer to notices plus its cursor."""
    page = _parse(_ShipmentPage, payload, "shipments")
    return ShipmentPage(
        shipments=tuple(_shipment_notice(s) for s in page.shipments),
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


def cancel_result(payload: Any) -> CancelResult:
    """Map a cancel answer to what will not ship."""
    result = _parse(_CancelResult, payload, "cancel")
    message = f"warehouse status: {result.status}"
    if not result.cancelled_lines:
        message = f"nothing left to cancel; {message}"
    return CancelResult(
        po_number=result.po_number,
        cancelled=tuple(
            ShipmentLine(sku=x.part_number, quantity=x.quantity) for x in result.cancelled_lines
        ),
        message=message,
    )


def error_details(payload: Any) -> tuple[str, str, tuple[str, ...]]:
    """Read ``(code, message, part_numbers)`` from an error body; tolerate a broken one."""
    error = payload.get("error") if isinstance(payload, Mapping) else None
    if not isinstance(error, Mapping):
        return "", "", ()
    code = error.get("code")
    message = error.get("message")
    parts = error.get("part_numbers")
    return (
        code if isinstance(code, str) else "",
        message if isinstance(message, str) else "",
        tuple(p for p in parts if isinstance(p, str)) if isinstance(parts, list) else (),
    )
