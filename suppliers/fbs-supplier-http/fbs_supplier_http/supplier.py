"""The ``http`` supplier: one configured instance is one warehouse speaking openapi.yaml."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from fbs_core.adapters import Supplier
from fbs_core.domain import (
    CancelResult,
    Offer,
    PartNumberRules,
    PurchaseOrderAck,
    PurchaseOrderRequest,
    ShipmentBatch,
    ShipmentNotice,
)
from fbs_core.errors import FatalError, RetriableError

from . import mapping
from .client import WarehouseClient

_T = TypeVar("_T")

STOCK_CHUNK = 100
"""Most part numbers ``GET /v1/stock`` takes at once."""

SHIPMENT_PAGE = 100
"""Parcels asked for per ``GET /v1/shipments`` page."""

MAX_SHIPMENT_PAGES = 1000
"""A warehouse that keeps saying ``has_more`` is broken; stop and resume next poll."""

PART_NUMBERS = PartNumberRules(max_length=64, forbidden_characters=",")
"""openapi.yaml's ``PartNumber``: at most 64 characters, never a comma (the list separator)."""

CHECK_PART_NUMBER = "fbs-connection-check"
"""A part number no warehouse carries: ``check()`` asks for it to test the key harmlessly."""


class HttpSupplierOptions(BaseModel):
    """Options for ``[suppliers.<name>.options]`` with ``type = "http"``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(description="The warehouse's API root, e.g. https://api.acme.example")
    api_key: SecretStr = Field(description="The API key the warehouse issued to the merchant")
    ship_from_zip: str = Field(description="5-digit US ZIP code the warehouse ships from")
    timeout: float = Field(default=10.0, gt=0, le=300, description="Seconds per request")
    currency: str = Field(default="USD", description="ISO 4217 currency the account prices in")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        url = httpx.URL(value) if value else None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"must be an http:// or https:// URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("ship_from_zip")
    @classmethod
    def _zip(cls, value: str) -> str:
        value = value.strip()
        if len(value) != 5 or not value.isdigit():
            raise ValueError(f"must be a 5-digit US ZIP code such as '75201', got {value!r}")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise ValueError(f"must be a 3-letter ISO 4217 code such as 'USD', got {value!r}")
        return value


class HttpSupplier(Supplier):
    """A warehouse reached through the fbs warehouse REST API.

    Args:
        name: the instance name (``[suppliers.<name>]``).
        options: validated options; a plain mapping is validated here.
        transport: an httpx transport to use instead of the network (tests only).
    """

    options: HttpSupplierOptions
    part_numbers = PART_NUMBERS

    def __init__(
        self,
        name: str,
        options: HttpSupplierOptions | dict[str, Any],
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not isinstance(options, HttpSupplierOptions):
            options = HttpSupplierOptions.model_validate(options)
        super().__init__(name, options)
        self.client = WarehouseClient(
            options.base_url, options.api_key, timeout=options.timeout, transport=transport
        )

    def offers(self, skus: Sequence[str]) -> list[Offer]:
        """Return stock and cost for the parts this warehouse carries among ``skus``.

        Asks in chunks of 100. A SKU the API cannot carry (:data:`PART_NUMBERS`: empty,
        longer than 64 characters, or with a comma) cannot be asked for and is treated as
        not carried; the core never asks for one.
        """
        wanted = list(dict.fromkeys(s for s in skus if PART_NUMBERS.problem(s) is None))
        if len(wanted) < len(set(skus)):
            self.log.warning("skipping SKUs the warehouse API cannot carry (%s)", PART_NUMBERS)
        found: list[Offer] = []
        for start in range(0, len(wanted), STOCK_CHUNK):
            payload = self.client.get_stock(wanted[start : start + STOCK_CHUNK])
            found += self._map(
                mapping.offers_from_stock,
                payload,
                supplier=self.name,
                ship_from_zip=self.options.ship_from_zip,
                currency=self.options.currency,
            )
        return found

    def place_order(self, request: PurchaseOrderRequest) -> PurchaseOrderAck:
        """Send the purchase order; the warehouse deduplicates on ``po_number``.

        Raises:
            OutOfStock: the warehouse is short of the listed part numbers.
            FatalError: ``po_number_conflict`` if the number was used for another order,
                ``invalid_address`` if the ship-to cannot make a label,
                ``unsupported_part_number`` if a line's part number breaks
                :data:`PART_NUMBERS` (refused here, never sent), ``invalid_request`` if the
                warehouse finds the request invalid (never retried).
        """
        for line in request.lines:
            problem = PART_NUMBERS.problem(line.sku)
            if problem:
                raise FatalError(
                    f"part number {line.sku!r} {problem}; the warehouse API cannot carry it",
                    code="unsupported_part_number",
                )
        payload = self.client.create_purchase_order(mapping.purchase_order_body(request))
        return self._map(mapping.ack_from_order, payload, currency=self.options.currency)

    def fetch_shipments(self, cursor: str | None) -> ShipmentBatch:
        """Return every parcel recorded since ``cursor``, following all pages."""
        notices: list[ShipmentNotice] = []
        for _ in range(MAX_SHIPMENT_PAGES):
            payload = self.client.list_shipments(cursor, SHIPMENT_PAGE)
            page = self._map(mapping.shipment_page, payload)
            notices += page.shipments
            cursor = page.next_cursor
            if not page.has_more or not page.shipments:
                break
        else:
            self.log.warning("stopped after %d pages of shipments", MAX_SHIPMENT_PAGES)
        return ShipmentBatch(shipments=tuple(notices), cursor=cursor)

    def cancel_order(self, po_number: str, keep: Mapping[str, int] | None = None) -> CancelResult:
        """Ask the warehouse to stop what has not shipped (or the units above ``keep``).

        The answer lists every unit cancelled on the order so far, as the API does.
        """
        return self._map(mapping.cancel_result, self.client.cancel_purchase_order(po_number, keep))

    def check(self) -> None:
        """Ask for a part no one carries: proves the URL and the key with no side effect."""
        self.client.get_stock([CHECK_PART_NUMBER])

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    @staticmethod
    def _map(func: Callable[..., _T], payload: Any, **kwargs: Any) -> _T:
        try:
            return func(payload, **kwargs)
        except mapping.MalformedResponse as exc:
            raise RetriableError(str(exc), code="malformed_response") from None
