"""A local imitation of the Stripe endpoints fbs charges and refunds through.

It follows Stripe's documented v1 behaviour closely enough that a correct client
cannot tell the difference for these calls:

* form-encoded request bodies with bracketed nesting (``metadata[fbs_order_id]=7``);
* ``Authorization: Bearer sk_test_...`` (or HTTP Basic with the key as user name);
  a missing or wrong key gets 401 with Stripe's error body;
* off-session confirmed PaymentIntents that succeed, or fail with a 402 ``card_error``
  for Stripe's test payment methods (``pm_card_chargeDeclined`` …);
* idempotency as Stripe documents it: the status and body of the first request for an
  ``Idempotency-Key`` are saved once the endpoint starts executing (errors included) and
  replayed with ``Idempotent-Replayed: true``; the same key with other parameters gets
  400 ``idempotency_error``; requests that fail parameter validation save nothing;
* refunds that refuse to give back more than remains on the payment;
* PaymentIntent search for one clause of Stripe's search query language,
  ``metadata['key']:'value'`` (exact match; single or double quotes, a backslash
  escapes the next character); any other query gets Stripe's 400. Unlike Stripe, new objects
  are searchable at once.

The counters (``charges``, ``refunds``, ``duplicate_effects`` …) let tests and the demo
prove that a crash-and-retry never charged or refunded twice.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

STRIPE_TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "succeeded",
    "pm_card_mastercard": "succeeded",
    "pm_card_chargeDeclined": "card_declined",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_authenticationRequired": "authentication_required",
}
"""Stripe's documented test payment methods and what confirming each one does."""

OUTCOMES = ("succeeded", "card_declined", "insufficient_funds", "authentication_required")

# (code, decline_code, message) of the card_error Stripe returns for each failing outcome.
_DECLINES: dict[str, tuple[str, str, str]] = {
    "card_declined": ("card_declined", "generic_decline", "Your card was declined."),
    "insufficient_funds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "authentication_required": (
        "authentication_required",
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
    ),
}

_PAYMENT_INTENT_PARAMS = frozenset(
    {
        "amount", "currency", "customer", "payment_method", "off_session", "confirm",
        "description", "metadata", "statement_descriptor", "statement_descriptor_suffix",
        "receipt_email", "capture_method", "confirmation_method", "payment_method_types",
        "error_on_requires_action", "setup_future_usage", "shipping", "expand",
        "return_url", "automatic_payment_methods",
    }
)  # fmt: skip
_REFUND_PARAMS = frozenset({"payment_intent", "charge", "amount", "reason", "metadata", "expand"})
_SEARCH_PARAMS = frozenset({"query", "limit", "page", "expand"})
_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_METADATA_CLAUSE = re.compile(rf"\s*metadata\[(?P<key>{_QUOTED})\]:(?P<value>{_QUOTED})\s*")
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_MINIMUM_CHARGE_CENTS = 50  # Stripe's minimum for USD, applied to every currency here
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


class StripeApiError(Exception):
    """An error response in Stripe's shape; ``saved`` says whether idempotency keeps it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = False,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.saved = saved
        body: dict[str, Any] = {"type": type_, "message": message}
        if code:
            body["code"] = code
            body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            body["param"] = param
        body.update(extra)
        self.body = {"error": body}


def parse_form(body: bytes) -> dict[str, Any]:
    """Decode a form body the way Stripe does: ``a[b][c]=v`` nests, ``a[0]=v`` lists.

    Raises:
        StripeApiError: the body is not form-encoded text.
    """
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise StripeApiError(400, "Invalid request body: not UTF-8 form data.") from exc
    params: dict[str, Any] = {}
    for raw_key, value in pairs:
        head, *rest = re.split(r"\[", raw_key, maxsplit=0)
        path = [head] + [part.rstrip("]") for part in rest]
        node: dict[str, Any] = params
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise StripeApiError(400, f"Invalid nesting in parameter: {raw_key}", param=head)
            node = child
        node[path[-1]] = value
    return {key: _listify(value) for key, value in params.items()}


def _listify(value: Any) -> Any:
    """Turn ``{"0": a, "1": b}`` (from ``x[0]=a&x[1]=b``) into ``[a, b]``."""
    if not isinstance(value, dict):
        return value
    converted = {key: _listify(item) for key, item in value.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def _bool_param(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name, "false")
    if value in ("true", "false"):
        return value == "true"
    if name == "off_session" and value in ("one_off", "recurring"):
        return True
    raise StripeApiError(400, f"Invalid boolean: {value}", code="parameter_invalid_boolean",
                         param=name)  # fmt: skip


def _int_param(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeApiError(400, f"Invalid integer: {value}", code="parameter_invalid_integer",
                             param=name)  # fmt: skip
    return int(value)


def _check_known(params: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for name in params:
        if name not in allowed:
            raise StripeApiError(400, f"Received unknown parameter: {name}",
                                 code="parameter_unknown", param=name)  # fmt: skip


def _metadata(params: Mapping[str, Any]) -> dict[str, str]:
    value = params.get("metadata", {})
    if value == "":
        return {}
    if not isinstance(value, dict) or any(not isinstance(v, str) for v in value.values()):
        raise StripeApiError(400, "Invalid metadata: must be a hash of strings.", param="metadata")
    if len(value) > 50:
        raise StripeApiError(400, "Invalid metadata: at most 50 keys.", param="metadata")
    for key, item in value.items():
        if len(key) > 40:
            raise StripeApiError(400, f"Metadata key {key!r} is longer than 40 characters.",
                                 param=f"metadata[{key}]")  # fmt: skip
        if len(item) > 500:
            raise StripeApiError(400, f"Metadata value for {key!r} is longer than 500 "
                                 "characters.", param=f"metadata[{key}]")  # fmt: skip
    return dict(value)


@dataclass
class _Fault:
    status: int
    remaining: int
    headers: dict[str, str]
    after_effect: bool


@dataclass
class _SavedResponse:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]
    request_id: str


@dataclass
class _PaymentState:
    intent: dict[str, Any]
    refunded_cents: int = 0


@dataclass
class _State:
    intents: dict[str, _PaymentState] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    saved: dict[str, _SavedResponse] = field(default_factory=dict)
    faults: list[_Fault] = field(default_factory=list)
    replays: int = 0


class StripeImitation:
    """Stripe's PaymentIntent, Refund and Customer endpoints for one test-mode account.

    Args:
        api_key: the only secret key accepted (``sk_test_...``).
        customer: id of the account's one customer (the merchant).
        payment_methods: extra payment method ids and the outcome of confirming each
            (one of ``OUTCOMES``), added to Stripe's test ones such as ``pm_card_visa``.
    """

    def __init__(
        self,
        api_key: str,
        *,
        customer: str = "cus_demo",
        payment_methods: Mapping[str, str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.customer = customer
        self.payment_methods = {**STRIPE_TEST_PAYMENT_METHODS, **(payment_methods or {})}
        unknown = {o for o in self.payment_methods.values() if o not in OUTCOMES}
        if unknown:
            raise ValueError(f"unknown payment method outcome(s) {sorted(unknown)}; "
                             f"use one of {OUTCOMES}")  # fmt: skip
        self._lock = threading.Lock()
        self._state = _State()
        self.app = Starlette(
            routes=[
                Route("/v1/payment_intents", self._payment_intents, methods=["GET", "POST"]),
                Route("/v1/payment_intents/search", self._search, methods=["GET"]),
                Route("/v1/payment_intents/{id}", self._payment_intent, methods=["GET"]),
                Route("/v1/refunds", self._refunds, methods=["GET", "POST"]),
                Route("/v1/refunds/{id}", self._refund, methods=["GET"]),
                Route("/v1/customers/{id}", self._customer, methods=["GET"]),
                Route("/{path:path}", self._unknown, methods=["GET", "POST", "DELETE"]),
            ]
        )

    # -- Python API for tests and the demo ------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        after_effect: bool = False,
    ) -> None:
        """Answer the next ``times`` API requests with ``status`` and Stripe's error body.

        By default the request is refused before Stripe starts executing it (a 429, a
        5xx at the edge, a 401): nothing happens and idempotency saves nothing. With
        ``after_effect=True`` the request is executed and its real response saved for
        its idempotency key, but the client is told ``status``, as when the connection
        drops after Stripe charged.
        """
        with self._lock:
            self._state.faults.append(_Fault(status, times, dict(headers or {}), after_effect))

    def forget_idempotency_keys(self) -> None:
        """Drop every saved idempotency response, as Stripe does once a key is 24 h old."""
        with self._lock:
            self._state.saved.clear()

    @property
    def payment_intents(self) -> list[dict[str, Any]]:
        """Every PaymentIntent created, oldest first (copies)."""
        with self._lock:
            return [deepcopy(p.intent) for p in self._state.intents.values()]

    @property
    def refund_objects(self) -> list[dict[str, Any]]:
        """Every Refund created, oldest first (copies)."""
        with self._lock:
            return [deepcopy(r) for r in self._state.refunds.values()]

    @property
    def charges(self) -> int:
        """Number of PaymentIntents that succeeded (money taken)."""
        return len(self._succeeded())

    @property
    def charged_cents(self) -> int:
        """Money taken by all succeeded PaymentIntents, in minor units."""
        return sum(p["amount_received"] for p in self._succeeded())

    @property
    def refunds(self) -> int:
        """Number of refunds created."""
        with self._lock:
            return len(self._state.refunds)

    @property
    def refunded_cents(self) -> int:
        """Money given back by all refunds, in minor units."""
        with self._lock:
            return sum(r["amount"] for r in self._state.refunds.values())

    @property
    def replays(self) -> int:
        """Number of responses replayed for a repeated idempotency key."""
        with self._lock:
            return self._state.replays

    @property
    def duplicate_effects(self) -> int:
        """Charges or refunds made twice for one fbs idempotency key (must stay 0).

        Counts succeeded PaymentIntents, and refunds, whose ``fbs_idempotency_key``
        metadata repeats an earlier one.
        """
        with self._lock:
            refunds = list(self._state.refunds.values())
        charge_keys = Counter(p["metadata"].get("fbs_idempotency_key") for p in self._succeeded())
        refund_keys = Counter(r["metadata"].get("fbs_idempotency_key") for r in refunds)
        return sum(n - 1 for counter in (charge_keys, refund_keys) for k, n in counter.items() if k)

    def _succeeded(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                p.intent for p in self._state.intents.values()
                if p.intent["status"] == "succeeded"
            ]  # fmt: skip

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

    # -- endpoints (called with the lock held) -------------------------------------

    def _create_payment_intent(self, _request: Request, params: dict[str, Any]) -> dict[str, Any]:
        _check_known(params, _PAYMENT_INTENT_PARAMS)
        amount = _int_param(params, "amount")
        if amount is None:
            raise StripeApiError(400, "Missing required param: amount.",
                                 code="parameter_missing", param="amount")  # fmt: skip
        currency = params.get("currency")
        if not currency:
            raise StripeApiError(400, "Missing required param: currency.",
                                 code="parameter_missing", param="currency")  # fmt: skip
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise StripeApiError(400, f"Invalid currency: {currency}.",
                                 code="parameter_invalid_string", param="currency")  # fmt: skip
        if amount < _MINIMUM_CHARGE_CENTS:
            raise StripeApiError(400, "Amount must be at least $0.50 usd",
                                 code="amount_too_small", param="amount")  # fmt: skip
        capture_method = params.get("capture_method", "automatic")
        if capture_method not in ("automatic", "automatic_async", "manual"):
            raise StripeApiError(400, "Invalid capture_method: must be one of automatic, "
                                 "automatic_async, or manual", param="capture_method")  # fmt: skip
        confirm = _bool_param(params, "confirm")
        off_session = _bool_param(params, "off_session")
        metadata = _metadata(params)
        customer = params.get("customer")
        if customer is not None and customer != self.customer:
            raise StripeApiError(400, f"No such customer: '{customer}'",
                                 code="resource_missing", param="customer")  # fmt: skip
        payment_method = params.get("payment_method")
        if payment_method is not None and payment_method not in self.payment_methods:
            raise StripeApiError(400, f"No such PaymentMethod: '{payment_method}'",
                                 code="resource_missing", param="payment_method")  # fmt: skip
        if off_session and not confirm:
            raise StripeApiError(400, "You may only specify `off_session` when `confirm` is "
                                 "true.", param="off_session")  # fmt: skip
        if confirm and payment_method is None:
            raise StripeApiError(400, "You cannot confirm this PaymentIntent because it's "
                                 "missing a payment method.",
                                 code="payment_intent_unexpected_state")  # fmt: skip

        intent_id = _new_id("pi")
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": capture_method,
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": params.get("confirmation_method", "automatic"),
            "created": int(time.time()),
            "currency": currency.lower(),
            "customer": customer,
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "next_action": None,
            "payment_method": payment_method,
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "statement_descriptor_suffix": params.get("statement_descriptor_suffix"),
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
        }
        self._state.intents[intent_id] = _PaymentState(intent)
        if confirm:
            self._confirm(intent, off_session=off_session)
        return deepcopy(intent)

    def _confirm(self, intent: dict[str, Any], *, off_session: bool) -> None:
        """Apply the payment method's outcome; raise the 402 Stripe sends on failure."""
        outcome = self.payment_methods[intent["payment_method"]]
        charge_id = _new_id("ch")
        if outcome == "authentication_required" and not off_session:
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
            return
        if outcome == "succeeded":
            intent["latest_charge"] = charge_id
            if intent["capture_method"] == "manual":
                intent["status"] = "requires_capture"
                intent["amount_capturable"] = intent["amount"]
            else:
                intent["status"] = "succeeded"
                intent["amount_received"] = intent["amount"]
            return
        code, decline_code, message = _DECLINES[outcome]
        error = {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": message,
            "charge": charge_id,
            "payment_method": {"id": intent["payment_method"], "object": "payment_method"},
        }
        intent["status"] = "requires_payment_method"
        intent["latest_charge"] = charge_id
        intent["last_payment_error"] = dict(error)
        raise StripeApiError(402, message, type_="card_error", code=code, saved=True,
                             decline_code=decline_code, charge=charge_id,
                             payment_intent=deepcopy(intent),
                             payment_method=error["payment_method"])  # fmt: skip

    def _retrieve_payment_intent(self, request: Request, _params: dict[str, Any]) -> dict[str, Any]:
        intent_id = request.path_params["id"]
        state = self._state.intents.get(intent_id)
        if state is None:
            raise StripeApiError(404, f"No such payment_intent: '{intent_id}'",
                                 code="resource_missing", param="intent")  # fmt: skip
        return deepcopy(state.intent)

    def _list_payment_intents(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        intents = [s.intent for s in self._state.intents.values()]
        if "customer" in params:
            intents = [i for i in intents if i["customer"] == params["customer"]]
        return self._page(request, list(reversed(intents)), params)

    def _search_payment_intents(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        _check_known(params, _SEARCH_PARAMS)
        query = params.get("query")
        if not query:
            raise StripeApiError(400, "Missing required param: query.",
                                 code="parameter_missing", param="query")  # fmt: skip
        key, value = _metadata_clause(query)
        matches = [
            s.intent for s in reversed(self._state.intents.values())
            if s.intent["metadata"].get(key) == value
        ]  # fmt: skip
        limit = _int_param(params, "limit") or 10
        if not 1 <= limit <= 100:
            raise StripeApiError(400, "Invalid limit: must be between 1 and 100",
                                 param="limit")  # fmt: skip
        page = params.get("page", "0")
        if not page.isdigit() or int(page) > len(matches):
            raise StripeApiError(400, f"Invalid page: {page}", param="page")
        start = int(page)
        has_more = len(matches) > start + limit
        return {
            "object": "search_result",
            "data": deepcopy(matches[start : start + limit]),
            "has_more": has_more,
            "next_page": str(start + limit) if has_more else None,
            "url": request.url.path,
        }

    def _list_refunds(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        refunds = list(self._state.refunds.values())
        if "payment_intent" in params:
            refunds = [r for r in refunds if r["payment_intent"] == params["payment_intent"]]
        return self._page(request, list(reversed(refunds)), params)

    @staticmethod
    def _page(
        request: Request, newest_first: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        limit = _int_param(params, "limit") or 10
        if not 1 <= limit <= 100:
            raise StripeApiError(400, "Invalid limit: must be between 1 and 100",
                                 param="limit")  # fmt: skip
        after = params.get("starting_after")
        if after is not None:
            ids = [o["id"] for o in newest_first]
            if after not in ids:
                raise StripeApiError(400, f"No such object: '{after}'",
                                     code="resource_missing", param="starting_after")  # fmt: skip
            newest_first = newest_first[ids.index(after) + 1 :]
        page = newest_first[:limit]
        return {
            "object": "list",
            "data": deepcopy(page),
            "has_more": len(newest_first) > limit,
            "url": request.url.path,
        }

    def _create_refund(self, _request: Request, params: dict[str, Any]) -> dict[str, Any]:
        _check_known(params, _REFUND_PARAMS)
        amount = _int_param(params, "amount")
        reason = params.get("reason")
        if reason is not None and reason not in _REFUND_REASONS:
            raise StripeApiError(400, f"Invalid reason: must be one of "
                                 f"{', '.join(_REFUND_REASONS)}", param="reason")  # fmt: skip
        metadata = _metadata(params)
        if amount is not None and amount < 1:
            raise StripeApiError(400, "Invalid positive integer", param="amount",
                                 code="parameter_invalid_integer")  # fmt: skip
        intent_id = params.get("payment_intent")
        if intent_id is None:
            raise StripeApiError(400, "One of the following params should be provided for this "
                                 "request: payment_intent or charge.",
                                 code="parameter_missing")  # fmt: skip
        state = self._state.intents.get(intent_id)
        if state is None:
            raise StripeApiError(400, f"No such payment_intent: '{intent_id}'", saved=True,
                                 code="resource_missing", param="payment_intent")  # fmt: skip
        intent = state.intent
        if intent["status"] != "succeeded":
            raise StripeApiError(400, f"This PaymentIntent ({intent_id}) does not have a "
                                 "successful charge to refund.", saved=True,
                                 code="charge_not_refundable",
                                 param="payment_intent")  # fmt: skip
        remaining = intent["amount_received"] - state.refunded_cents
        if remaining <= 0:
            raise StripeApiError(400, f"Charge {intent['latest_charge']} has already been "
                                 "refunded.", saved=True,
                                 code="charge_already_refunded")  # fmt: skip
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise StripeApiError(
                400,
                f"Refund amount ({_show(amount, intent['currency'])}) is greater than "
                f"unrefunded amount on charge ({_show(remaining, intent['currency'])})",
                saved=True,
                param="amount",
            )
        state.refunded_cents += amount
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": intent["latest_charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "metadata": metadata,
            "payment_intent": intent_id,
            "reason": reason,
            "status": "succeeded",
        }
        self._state.refunds[refund["id"]] = refund
        return deepcopy(refund)

    def _retrieve_refund(self, request: Request, _params: dict[str, Any]) -> dict[str, Any]:
        refund_id = request.path_params["id"]
        refund = self._state.refunds.get(refund_id)
        if refund is None:
            raise StripeApiError(404, f"No such refund: '{refund_id}'",
                                 code="resource_missing", param="id")  # fmt: skip
        return deepcopy(refund)

    def _retrieve_customer(self, request: Request, _params: dict[str, Any]) -> dict[str, Any]:
        customer_id = request.path_params["id"]
        if customer_id != self.customer:
            raise StripeApiError(404, f"No such customer: '{customer_id}'",
                                 code="resource_missing", param="id")  # fmt: skip
        default_method = next(
            (pm for pm, outcome in self.payment_methods.items() if outcome == "succeeded"), None
        )
        return {
            "id": customer_id,
            "object": "customer",
            "created": 1700000000,
            "description": "fbs merchant",
            "email": "merchant@example.com",
            "invoice_settings": {"default_payment_method": default_method},
            "livemode": False,
            "metadata": {},
        }


def _metadata_clause(query: str) -> tuple[str, str]:
    """Read ``metadata['key']:'value'``, the one query form this imitation searches by.

    Raises:
        StripeApiError: 400, for any other query.
    """
    match = _METADATA_CLAUSE.fullmatch(query)
    if match is None:
        raise StripeApiError(
            400,
            f"The query `{query}` is not supported here: only one clause of the form "
            "metadata['key']:'value' can be searched.",
            code="parameter_invalid_string",
            param="query",
        )
    return _unquote(match["key"]), _unquote(match["value"])


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])


def _show(cents: int, currency: str) -> str:
    return f"${cents // 100}.{cents % 100:02d}" if currency == "usd" else f"{cents} {currency}"
