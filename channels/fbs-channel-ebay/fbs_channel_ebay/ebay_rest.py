"""Calls to eBay's REST APIs over httpx, each failure mapped to an fbs error.

* 401 once: the access token expired or was revoked between our check and eBay's; the
  token is refreshed and the call sent again (a poll that crosses a token's expiry
  completes). 401 again, or 403 (a missing scope) → :class:`AuthError`;
* 429 (eBay's call limit reached) → :class:`RetriableError` ``rate_limited`` with
  ``retry_after`` from ``Retry-After`` when eBay sends one;
* 5xx, timeouts, refused connections, a 2xx body that is not JSON → :class:`RetriableError`;
* 404 → :class:`NotFound`; any other 4xx → :class:`FatalError` with eBay's error message.

Every call is counted (:class:`CallCounter`), since eBay's quotas count calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from fbs_core.errors import AuthError, FatalError, RetriableError
from fbs_core.remote_calls import remote_call

from .ebay_oauth import TokenKeeper


class NotFound(FatalError):  # noqa: N818 - named after the status
    """eBay has no such resource (an order id it does not know)."""

    code = "not_found"


@dataclass(frozen=True)
class EbayResponse:
    """A successful answer: its status, parsed JSON body (or None) and headers."""

    status: int
    data: Any
    headers: Mapping[str, str]


class CallCounter:
    """Calls made per UTC day, as eBay counts them against the daily limit."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.day = ""
        self.calls = 0

    def load(self, day: str, calls: int) -> None:
        """Resume a count a previous poll stored, when it is today's and larger."""
        with self._lock:
            if day == self._today() and (day != self.day or calls > self.calls):
                self.day, self.calls = day, calls

    def add(self) -> None:
        """Count one call."""
        with self._lock:
            today = self._today()
            if today != self.day:
                self.day, self.calls = today, 0
            self.calls += 1

    def today(self) -> int:
        """Calls made so far today."""
        with self._lock:
            return self.calls if self.day == self._today() else 0

    def _today(self) -> str:
        return self._clock().date().isoformat()


class EbayRestClient:
    """One API's base URL, authenticated with the seller's user token."""

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        tokens: TokenKeeper,
        *,
        marketplace: str,
        counter: CallCounter,
    ) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._tokens = tokens
        self._marketplace = marketplace
        self.counter = counter

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> EbayResponse:
        """GET ``path`` (relative to the base URL)."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Mapping[str, Any]) -> EbayResponse:
        """POST ``body`` as JSON to ``path``."""
        return self.request("POST", path, body=body)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> EbayResponse:
        """Send one call, refreshing the token once if eBay says it expired."""
        where = f"{method} /{path.lstrip('/')}"
        for attempt in (1, 2):
            token = self._tokens.user_token()
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "X-EBAY-C-MARKETPLACE-ID": self._marketplace,
            }
            if body is not None:
                headers["Content-Type"] = "application/json"
            try:
                with remote_call("eBay", where):
                    response = self._http.request(
                        method,
                        f"{self._base}/{path.lstrip('/')}",
                        params=dict(params or {}),
                        json=body,
                        headers=headers,
                    )
            finally:
                self.counter.add()
            if response.status_code == 401 and attempt == 1:
                self._tokens.refused(token)
                continue
            return _answer(response, where)
        raise AssertionError("unreachable")  # pragma: no cover


def _answer(response: httpx.Response, where: str) -> EbayResponse:
    status = response.status_code
    if 200 <= status < 300:
        data: Any = None
        if response.content:
            try:
                data = response.json()
            except ValueError:
                raise RetriableError(
                    f"eBay answered {where} with something other than JSON",
                    code="malformed_response",
                ) from None
        return EbayResponse(status, data, response.headers)
    message = _error_message(response)
    if status in (401, 403):
        raise AuthError(f"eBay refused {where} ({status}): {message}")
    if status == 429:
        raise RetriableError(
            f"eBay's call limit is reached ({where}): {message}",
            retry_after=_retry_after(response.headers.get("Retry-After")),
            code="rate_limited",
        )
    if status >= 500:
        raise RetriableError(f"eBay answered {where} with {status}: {message}")
    if status == 404:
        raise NotFound(f"eBay has no such resource ({where}): {message}")
    raise FatalError(f"eBay rejected {where} ({status}): {message}")


def _error_message(response: httpx.Response) -> str:
    """EBay's ``errors[].message`` (or ``longMessage``), else the status text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list):
        texts = [
            str(e.get("longMessage") or e.get("message"))
            for e in errors
            if isinstance(e, dict) and (e.get("longMessage") or e.get("message"))
        ]
        if texts:
            return "; ".join(texts)[:500]
    return response.reason_phrase or "no details"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None
