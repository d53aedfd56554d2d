"""Request plumbing: authentication, injected faults, and idempotency replay.

The status and body of the first request for an ``Idempotency-Key`` are saved once the
endpoint starts executing (errors included) and replayed with ``Idempotent-Replayed:
true``; the same key with other parameters gets 400 ``idempotency_error``; requests that
fail parameter validation save nothing.
"""

from __future__ import annotations

import base64
import secrets
import threading
from copy import deepcopy
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._form import StripeApiError, parse_form
from ._state import _Fault, _new_id, _SavedResponse, _State

_IDEMPOTENCY_MESSAGE = (
    "Keys for idempotent requests can only be used with the same parameters they were "
    "first used with. Try using a key other than '{key}' if you meant to execute a "
    "different request."
)
_DEFAULT_FAULT_BODIES: dict[int, tuple[str, str | None, str]] = {
    401: ("invalid_request_error", None, "Invalid API Key provided."),
    402: ("card_error", "card_declined", "Your card was declined."),
    403: ("invalid_request_error", None, "The provided key does not have access."),
    409: ("idempotency_error", "idempotency_key_in_use", "There is currently another "
          "in-progress request using this Stripe API key and idempotency key."),
    429: ("invalid_request_error", "rate_limit", "Too many requests hit the API too "
          "quickly. We recommend an exponential backoff of your requests."),
}  # fmt: skip


class _Requests:
    """Every route's way in: checks, runs the endpoint under the lock, saves and replays."""

    api_key: str
    _lock: threading.Lock
    _state: _State

    # -- request plumbing ---------------------------------------------------------

    async def _payment_intents(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._handle(request, self._list_payment_intents)
        return await self._handle(request, self._create_payment_intent)

    async def _search(self, request: Request) -> Response:
        return await self._handle(request, self._search_payment_intents)

    async def _payment_intent(self, request: Request) -> Response:
        return await self._handle(request, self._retrieve_payment_intent)

    async def _refunds(self, request: Request) -> Response:
        if request.method == "GET":
            return await self._handle(request, self._list_refunds)
        return await self._handle(request, self._create_refund)

    async def _refund(self, request: Request) -> Response:
        return await self._handle(request, self._retrieve_refund)

    async def _customer(self, request: Request) -> Response:
        return await self._handle(request, self._retrieve_customer)

    async def _unknown(self, request: Request) -> Response:
        def unknown(_request: Request, _params: dict[str, Any]) -> dict[str, Any]:
            raise StripeApiError(
                404, f"Unrecognized request URL ({request.method}: {request.url.path})."
            )

        return await self._handle(request, unknown)

    async def _handle(self, request: Request, endpoint: Any) -> Response:
        request_id = _new_id("req")
        headers = {"Request-Id": request_id}
        fault = self._take_fault()
        if fault is not None and not fault.after_effect:
            return self._fault_response(fault, headers)
        try:
            self._authenticate(request)
            body = await request.body()
            if body and not request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                raise StripeApiError(400, "Invalid request: Stripe accepts only "
                                     "application/x-www-form-urlencoded bodies.")  # fmt: skip
            params = parse_form(body) if request.method == "POST" else dict(request.query_params)
            key = request.headers.get("idempotency-key") if request.method == "POST" else None
            if key is None:
                status, payload = self._execute(request, endpoint, params)
            else:
                status, payload, replayed = self._idempotent(
                    request, endpoint, params, key, request_id
                )
                if replayed is not None:
                    headers["Idempotent-Replayed"] = "true"
                    headers["Original-Request"] = replayed
        except StripeApiError as exc:
            status, payload = exc.status, exc.body
        if fault is not None:
            return self._fault_response(fault, headers)
        return JSONResponse(payload, status_code=status, headers=headers)

    def _execute(
        self, request: Request, endpoint: Any, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            try:
                return 200, endpoint(request, params)
            except StripeApiError as exc:
                return exc.status, exc.body

    def _idempotent(
        self,
        request: Request,
        endpoint: Any,
        params: dict[str, Any],
        key: str,
        request_id: str,
    ) -> tuple[int, dict[str, Any], str | None]:
        """Run ``endpoint`` once per key; replay or refuse later uses of the key."""
        with self._lock:
            saved = self._state.saved.get(key)
            if saved is not None:
                if (saved.method, saved.path, saved.params) != (
                    request.method, request.url.path, params,
                ):  # fmt: skip
                    raise StripeApiError(400, _IDEMPOTENCY_MESSAGE.format(key=key),
                                         type_="idempotency_error")  # fmt: skip
                self._state.replays += 1
                return saved.status, deepcopy(saved.body), saved.request_id
            try:
                status, payload = 200, endpoint(request, params)
            except StripeApiError as exc:
                if not exc.saved:
                    raise
                status, payload = exc.status, exc.body
            self._state.saved[key] = _SavedResponse(
                request.method, request.url.path, params, status, deepcopy(payload), request_id
            )
            return status, payload, None

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            if not self._state.faults:
                return None
            fault = self._state.faults[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._state.faults.pop(0)
            return fault

    @staticmethod
    def _fault_response(fault: _Fault, headers: dict[str, str]) -> Response:
        type_, code, message = _DEFAULT_FAULT_BODIES.get(
            fault.status, ("api_error", None, "An unknown error occurred on Stripe's side.")
        )
        error: dict[str, Any] = {"type": type_, "message": message}
        if code:
            error["code"] = code
        return JSONResponse({"error": error}, status_code=fault.status,
                            headers={**headers, **fault.headers})  # fmt: skip

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        key = ""
        if scheme.lower() == "bearer":
            key = credential.strip()
        elif scheme.lower() == "basic":
            try:
                key = base64.b64decode(credential).decode().partition(":")[0]
            except ValueError:
                key = ""
        if not key:
            raise StripeApiError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        if not secrets.compare_digest(key.encode(), self.api_key.encode()):
            shown = f"{key[:8]}{'*' * 12}{key[-4:]}" if len(key) > 12 else "****"
            raise StripeApiError(401, f"Invalid API Key provided: {shown}")
