"""The HTTP client for one warehouse: connection pool, auth, and error mapping.

Every failure leaves here as an :mod:`fbs_core.errors` type:

* 401/403 → :class:`~fbs_core.errors.AuthError`;
* 429 → :class:`~fbs_core.errors.RetriableError` with ``retry_after`` from ``Retry-After``;
* 5xx, timeouts, connection errors, a body that is not JSON → ``RetriableError``;
* 422 ``insufficient_stock`` → :class:`~fbs_core.errors.OutOfStock` with the part numbers;
* any other 4xx → :class:`~fbs_core.errors.FatalError` carrying the warehouse's code and
  message.

The API key is sent only in the ``Authorization`` header, never put into a message, and
masked where the warehouse's own text echoes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from fbs_core.config import scrub_secrets
from fbs_core.errors import AuthError, FatalError, OutOfStock, RetriableError
from fbs_core.remote_calls import remote_call

from . import __version__
from .mapping import error_details

USER_AGENT = f"fbs-supplier-http/{__version__}"


class WarehouseClient:
    """Speak the fbs warehouse API (openapi.yaml) to one warehouse over one connection pool.

    Methods return the decoded JSON body of a successful answer; interpreting it is
    :mod:`fbs_supplier_http.mapping`'s job.
    """

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._secret = api_key.get_secret_value()
        self._http = httpx.Client(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            headers={
                "Authorization": f"Bearer {self._secret}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
        )

    def get_stock(self, part_numbers: list[str]) -> Any:
        """``GET /v1/stock`` for at most 100 part numbers."""
        return self._request("GET", "/v1/stock", params={"part_numbers": ",".join(part_numbers)})

    def create_purchase_order(self, body: dict[str, Any]) -> Any:
        """``POST /v1/purchase-orders``; a 200 replay and a 201 are both success."""
        return self._request("POST", "/v1/purchase-orders", json_body=body)

    def list_shipments(self, after: str | None, limit: int) -> Any:
        """``GET /v1/shipments`` from ``after`` (the first page when None)."""
        params: dict[str, str | int] = {"limit": limit}
        if after is not None:
            params["after"] = after
        return self._request("GET", "/v1/shipments", params=params)

    def cancel_purchase_order(self, po_number: str, keep: Mapping[str, int] | None = None) -> Any:
        """``POST /v1/purchase-orders/{po_number}/cancel``, with ``keep`` as its body if given."""
        body = None
        if keep is not None:
            body = {"keep": [{"part_number": p, "quantity": q} for p, q in keep.items()]}
        return self._request(
            "POST", f"/v1/purchase-orders/{quote(po_number, safe='')}/cancel", json_body=body
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        json_body: dict[str, Any] | None = None,
    ) -> Any:
        what = f"{method} {path}"
        with remote_call("the warehouse", what):
            response = self._http.request(method, path, params=params, json=json_body)
        if response.is_success:
            return self._json(response, what)
        raise self._error(response, what)

    def _json(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RetriableError(
                f"{what}: the warehouse answered HTTP {response.status_code} with a body "
                "that is not JSON",
                code="malformed_response",
            ) from None

    def _error(self, response: httpx.Response, what: str) -> Exception:
        status = response.status_code
        try:
            payload = response.json()
        except ValueError:
            payload = None
        code, message, part_numbers = error_details(payload)
        said = self._scrub(message or response.reason_phrase or "no explanation")
        text = f"{what}: HTTP {status}" + (f" {code}" if code else "") + f": {said}"
        if status in (401, 403):
            return AuthError(f"{text} (check options.api_key)", code="auth_failed")
        if status == 429:
            return RetriableError(
                text, retry_after=retry_after_seconds(response), code="rate_limited"
            )
        if status >= 500:
            return RetriableError(text, code="upstream_unavailable")
        if status == 422 and code == "insufficient_stock":
            return OutOfStock(text, skus=part_numbers)
        return FatalError(text, code=code or "upstream_rejected")

    def _scrub(self, text: str) -> str:
        """Mask the API key where the warehouse's own text echoes it (whole values only)."""
        return scrub_secrets(text, [self._secret])

    def __repr__(self) -> str:
        return f"<WarehouseClient {self._http.base_url}>"


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Read ``Retry-After`` as seconds (delta-seconds or an HTTP date); None if absent or bad."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
