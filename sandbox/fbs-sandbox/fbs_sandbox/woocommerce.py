"""A local WooCommerce store that speaks REST API v3 the way the official docs describe it.

What it serves (``specs/woocommerce/rest-api-docs-v3``):

* ``GET /wp-json/wc/v3/orders`` with ``status`` (comma list), ``modified_after``,
  ``modified_before``, ``dates_are_gmt``, ``orderby``, ``order``, ``page``, ``per_page``
  (1 to 100, else 400 ``rest_invalid_param``) and the ``X-WP-Total``/``X-WP-TotalPages``
  headers;
* ``GET``/``PUT /wp-json/wc/v3/orders/<id>`` (``status``, ``meta_data``, ``customer_note``);
* ``GET``/``POST /wp-json/wc/v3/orders/<id>/notes`` (``type`` = any, customer, internal);
* the Shipment Tracking extension under ``/wp-json/wc-shipment-tracking/v3/`` when
  ``shipment_tracking=True``; otherwise those routes answer 404 ``rest_no_route``, as a
  store without the extension does.

Authentication follows ``WC_REST_Authentication``: one-legged OAuth 1.0a in the query string
(HMAC-SHA1 or HMAC-SHA256 over the normalised parameters, key = consumer secret + ``&``,
15-minute timestamp window, nonces single-use; duplicated query parameters are accepted and
the last value wins, as PHP does) or HTTP Basic with the key and secret. A real store takes
Basic only over https; this one serves http and takes both.

Every error body has WordPress's shape ``{"code", "message", "data": {"status"}}``.
Timestamps are whole seconds, so orders can share a ``date_modified_gmt`` as they do on a
real store. The store's local time is ``site_utc_offset`` away from GMT.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ORDER_STATUSES = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
)
ORDERBY = ("date", "id", "include", "title", "slug")
ADDRESS_KEYS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
)
OAUTH_REQUIRED = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
OAUTH_WINDOW_SECONDS = 15 * 60

# The extension's built-in provider list (a US excerpt plus a few others), name → link.
TRACKING_PROVIDERS: dict[str, dict[str, str]] = {
    "United States": {
        "Fedex": "https://www.fedex.com/apps/fedextrack/?action=track&tracknumbers=%1$s",
        "FedEx Sameday": "https://www.fedexsameday.com/fdx_dotracking_ua.aspx?tracknum=%1$s",
        "OnTrac": "https://www.ontrac.com/trackingdetail.asp?tracking=%1$s",
        "UPS": "https://www.ups.com/track?loc=en_US&tracknum=%1$s",
        "USPS": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=%1$s",
        "DHL US": "https://www.logistics.dhl/us-en/home/tracking/tracking-ecommerce.html"
        "?tracking-id=%1$s",
    },
    "Canada": {
        "Canada Post": "https://www.canadapost-postescanada.ca/track-reperage/en#/resultList"
        "?searchFor=%1$s",
    },
}

_STATUS_LABELS = {s: s.replace("-", " ").title() for s in ORDER_STATUSES}
_DEFAULT_ERROR_CODES = {
    400: "rest_invalid_param",
    401: "woocommerce_rest_authentication_error",
    403: "woocommerce_rest_cannot_view",
    404: "rest_no_route",
    429: "too_many_requests",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
}


def _slug(name: str) -> str:
    """Approximate WordPress ``sanitize_title``: lower case, non-alphanumerics to dashes."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _wp_date(moment: datetime) -> str:
    """Render like WordPress: ``2017-03-22T19:28:08`` (no zone, whole seconds)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _error(status: int, code: str, message: str, **data: Any) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message, "data": {"status": status, **data}}, status_code=status
    )


def _no_route() -> JSONResponse:
    return _error(404, "rest_no_route", "No route was found matching the URL and request method.")


def _invalid_param(name: str, reason: str) -> JSONResponse:
    return _error(400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: reason})


def _rfc3986(value: str) -> str:
    """PHP ``rawurlencode``, as ``wc_rest_urlencode_rfc3986`` uses it."""
    return quote(value, safe="~")


def oauth_signature(
    method: str, url: str, params: dict[str, str], secret: str, algorithm: str = "HMAC-SHA256"
) -> str:
    """Return the signature WooCommerce expects for ``params`` (without ``oauth_signature``).

    Mirrors ``WC_REST_Authentication::check_oauth_signature``: parameters sorted by key,
    each key and value percent-encoded, each ``key=value`` pair encoded again, joined with
    ``%26``, and signed with ``consumer_secret + "&"``.
    """
    pairs = [
        _rfc3986(f"{_rfc3986(key)}={_rfc3986(value)}") for key, value in sorted(params.items())
    ]
    base = f"{method.upper()}&{_rfc3986(url)}&{'%26'.join(pairs)}"
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    raw = hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()
    return base64.b64encode(raw).decode()


def webhook_signature(secret: str, body: bytes) -> str:
    """``X-WC-Webhook-Signature``: base64(HMAC-SHA256(secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _parse_wp_datetime(value: str) -> datetime | None:
    """Parse an ISO 8601 date as ``rest_parse_date`` does; naive values stay naive."""
    text = value.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class _Fault:
    kind: str  # "status", "slow" or "malformed"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    seconds: float = 0.0


class WooCommerceImitation:
    """An in-memory WooCommerce store served as a Starlette app (``.app``).

    Thread-safe: tests and the demo call the Python API from their own threads while the
    app serves requests on the server's event loop.

    Args:
        consumer_key: the REST API key the store accepts (``ck_...``).
        consumer_secret: its secret (``cs_...``).
        shipment_tracking: whether the Shipment Tracking extension is installed.
        site_utc_offset: the store's timezone; the non-``_gmt`` dates use it.
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        shipment_tracking: bool = True,
        site_utc_offset: timedelta = timedelta(hours=-5),
    ) -> None:
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.shipment_tracking = shipment_tracking
        self.site_utc_offset = site_utc_offset
        self.site_url = "http://127.0.0.1"
        """Base URL used in ``_links`` and webhook headers; learnt from the first request."""
        self._lock = threading.RLock()
        self._orders: dict[int, dict[str, Any]] = {}
        self._notes: dict[int, list[dict[str, Any]]] = {}
        self._trackings: dict[int, list[dict[str, Any]]] = {}
        self._faults: deque[_Fault] = deque()
        self._nonces: dict[str, float] = {}
        self._next_order_id = 1000
        self._next_item_id = 5000
        self._next_note_id = 9000
        self._next_meta_id = 20000
        self._products: dict[str, int] = {}
        self._tracking_pushes: list[tuple[int, str]] = []
        self._completed: list[int] = []
        self._duplicates = 0
        self.app = Starlette(routes=self._routes())

    # -- Python API: data -------------------------------------------------------------

    def add_order(
        self,
        *,
        lines: list[dict[str, Any]],
        shipping: dict[str, Any] | None,
        billing: dict[str, Any] | None = None,
        status: str = "processing",
        shipping_total: str = "0.00",
        total_tax: str = "0.00",
        date_modified: datetime | None = None,
        currency: str = "USD",
        customer_note: str = "",
    ) -> dict[str, Any]:
        """Create an order as checkout would and return its REST representation.

        ``lines`` are ``{"sku", "quantity", "price"}`` dicts (``name`` optional). Address
        keys left out are returned as empty strings, as WooCommerce does; pass
        ``shipping=None`` to store an order with no shipping object at all.
        ``date_modified`` (UTC) sets both the creation and the modification stamp.
        """
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status!r}")
        with self._lock:
            now = self._stamp(date_modified)
            order_id = self._next_order_id
            self._next_order_id += 1
            items, items_total = [], Decimal(0)
            for line in lines:
                item = self._line_item(line)
                items_total += Decimal(item["total"])
                items.append(item)
            billing_full = {k: "" for k in (*ADDRESS_KEYS, "email", "phone")}
            billing_full.update(billing or {})
            order: dict[str, Any] = {
                "id": order_id,
                "parent_id": 0,
                "number": str(order_id),
                "order_key": f"wc_order_{uuid.uuid4().hex[:13]}",
                "created_via": "checkout",
                "version": "8.9.1",
                "status": status,
                "currency": currency,
                "discount_total": "0.00",
                "discount_tax": "0.00",
                "shipping_total": _money(Decimal(shipping_total)),
                "shipping_tax": "0.00",
                "cart_tax": _money(Decimal(total_tax)),
                "total": _money(items_total + Decimal(shipping_total) + Decimal(total_tax)),
                "total_tax": _money(Decimal(total_tax)),
                "prices_include_tax": False,
                "customer_id": 0,
                "customer_ip_address": "",
                "customer_user_agent": "",
                "customer_note": customer_note,
                "billing": billing_full,
                "shipping": None
                if shipping is None
                else {**{k: "" for k in (*ADDRESS_KEYS, "phone")}, **shipping},
                "payment_method": "stripe",
                "payment_method_title": "Credit card",
                "transaction_id": "",
                "date_paid": None,
                "date_paid_gmt": None,
                "date_completed": None,
                "date_completed_gmt": None,
                "cart_hash": "",
                "meta_data": [],
                "line_items": items,
                "tax_lines": [],
                "shipping_lines": [],
                "fee_lines": [],
                "coupon_lines": [],
                "refunds": [],
            }
            if shipping is None:
                del order["shipping"]
            self._set_date(order, "date_created", now)
            self._set_date(order, "date_modified", now)
            if status in ("processing", "completed"):
                self._set_date(order, "date_paid", now)
            self._orders[order_id] = order
            self._notes[order_id] = []
            self._trackings[order_id] = []
            return self._render(order)

    @property
    def orders(self) -> dict[int, dict[str, Any]]:
        """A snapshot of every order, id → REST representation."""
        with self._lock:
            return {oid: self._render(order) for oid, order in self._orders.items()}

    def set_status(self, order_id: int, status: str) -> None:
        """Change an order's status as the merchant would (adds the system note)."""
        with self._lock:
            self._change_status(self._orders[order_id], status)

    def patch_order(self, order_id: int, fields: dict[str, Any]) -> None:
        """Overwrite raw fields of an order (a value of ``None`` removes the field).

        For tests that need shapes checkout never produces: a missing ``shipping``, a
        non-numeric ``total``, a 5 MB ``customer_note``.
        """
        with self._lock:
            order = self._orders[order_id]
            for key, value in fields.items():
                if value is None:
                    order.pop(key, None)
                else:
                    order[key] = value
            self._touch(order)

    def touch(self, order_id: int, at: datetime | None = None) -> None:
        """Mark an order modified now (or at ``at``, UTC)."""
        with self._lock:
            self._touch(self._orders[order_id], at)

    @property
    def notes(self) -> dict[int, list[dict[str, Any]]]:
        """Every order's notes, oldest first (system notes included)."""
        with self._lock:
            return {oid: copy.deepcopy(notes) for oid, notes in self._notes.items()}

    @property
    def trackings(self) -> dict[int, list[dict[str, Any]]]:
        """Shipment Tracking items per order."""
        with self._lock:
            return {oid: copy.deepcopy(items) for oid, items in self._trackings.items()}

    @property
    def tracking_pushes(self) -> list[tuple[int, str]]:
        """(order id, tracking number) for every tracking item the extension created."""
        with self._lock:
            return list(self._tracking_pushes)

    @property
    def completed_orders(self) -> list[int]:
        """Order ids in the order they moved to ``completed`` (once per transition)."""
        with self._lock:
            return list(self._completed)

    @property
    def duplicate_effects(self) -> int:
        """Count writes that repeated an earlier one.

        A tracking number added twice to one order, or a note identical (text and
        visibility) to one already on the order.
        """
        with self._lock:
            return self._duplicates

    # -- Python API: faults -----------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` API requests with ``status`` and do nothing else.

        ``body`` (JSON-able, or bytes sent verbatim) defaults to a WordPress error body.
        """
        with self._lock:
            for _ in range(times):
                self._faults.append(
                    _Fault("status", status=status, headers=dict(headers or {}), body=body)
                )

    def slow_next(self, seconds: float, times: int = 1) -> None:
        """Delay the next ``times`` API requests by ``seconds``, then serve them normally."""
        with self._lock:
            for _ in range(times):
                self._faults.append(_Fault("slow", seconds=seconds))

    def malformed_next(self, times: int = 1) -> None:
        """Answer the next ``times`` API requests with 200 and a truncated JSON body."""
        with self._lock:
            for _ in range(times):
                self._faults.append(_Fault("malformed"))

    # -- Python API: webhooks ---------------------------------------------------------

    def send_webhook(
        self, url: str, *, topic: str, order_id: int, secret: str, timeout: float = 10.0
    ) -> httpx.Response:
        """POST a signed delivery for ``topic`` about ``order_id`` to ``url``, as WC does.

        The payload is the order as the REST API returns it (``{"id": N}`` for deletions).
        """
        resource, _, event = topic.partition(".")
        with self._lock:
            if event == "deleted":
                payload: Any = {"id": order_id}
            else:
                payload = self._render(self._orders[order_id])
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/8.9.1 Hookshot (WordPress/6.5.3)",
            "X-WC-Webhook-Source": f"{self.site_url}/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": webhook_signature(secret, body),
            "X-WC-Webhook-ID": "1",
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
        }
        return httpx.post(url, content=body, headers=headers, timeout=timeout)

    def send_ping(self, url: str, *, webhook_id: int = 1, timeout: float = 10.0) -> httpx.Response:
        """POST the unsigned ``webhook_id=<n>`` ping WooCommerce sends when a hook is saved."""
        return httpx.post(
            url,
            content=f"webhook_id={webhook_id}".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=timeout,
        )

    # -- internals: state -------------------------------------------------------------

    def _stamp(self, at: datetime | None = None) -> datetime:
        moment = at or datetime.now(UTC)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0)

    def _set_date(self, order: dict[str, Any], name: str, moment: datetime) -> None:
        order[f"{name}_gmt"] = _wp_date(moment)
        order[name] = _wp_date(moment + self.site_utc_offset)

    def _touch(self, order: dict[str, Any], at: datetime | None = None) -> None:
        self._set_date(order, "date_modified", self._stamp(at))

    def _line_item(self, line: dict[str, Any]) -> dict[str, Any]:
        sku = str(line.get("sku", ""))
        quantity = int(line["quantity"])
        price = Decimal(str(line["price"]))
        total = price * quantity
        product_id = self._products.setdefault(sku, 100 + len(self._products))
        item_id = self._next_item_id
        self._next_item_id += 1
        return {
            "id": item_id,
            "name": str(line.get("name") or f"Part {sku}"),
            "product_id": product_id,
            "variation_id": 0,
            "quantity": quantity,
            "tax_class": "",
            "subtotal": _money(total),
            "subtotal_tax": "0.00",
            "total": _money(total),
            "total_tax": "0.00",
            "taxes": [],
            "meta_data": [],
            "sku": sku,
            # WC computes total / quantity as a float, and 0 for a zero quantity.
            "price": float(price) if quantity else 0,
        }

    def _change_status(self, order: dict[str, Any], status: str) -> None:
        old = order["status"]
        if old == status:
            return
        order["status"] = status
        now = self._stamp()
        if status == "completed":
            self._set_date(order, "date_completed", now)
            self._completed.append(order["id"])
        self._set_date(order, "date_modified", now)
        self._add_note(
            order["id"],
            f"Order status changed from {_STATUS_LABELS[old]} to {_STATUS_LABELS[status]}.",
            customer_note=False,
            author="system",
            counted=False,
        )

    def _add_note(
        self, order_id: int, text: str, *, customer_note: bool, author: str, counted: bool = True
    ) -> dict[str, Any]:
        notes = self._notes[order_id]
        if counted and any(
            n["note"] == text and n["customer_note"] == customer_note for n in notes
        ):
            self._duplicates += 1
        now = self._stamp()
        note = {
            "id": self._next_note_id,
            "author": author,
            "date_created": _wp_date(now + self.site_utc_offset),
            "date_created_gmt": _wp_date(now),
            "note": text,
            "customer_note": customer_note,
        }
        self._next_note_id += 1
        notes.append(note)
        return note

    def _render(self, order: dict[str, Any]) -> dict[str, Any]:
        data = copy.deepcopy(order)
        base = f"{self.site_url}/wp-json/wc/v3/orders"
        data["_links"] = {
            "self": [{"href": f"{base}/{order['id']}"}],
            "collection": [{"href": base}],
        }
        return data

    # -- internals: HTTP --------------------------------------------------------------

    def _routes(self) -> list[Route]:
        wc, st = "/wp-json/wc/v3", "/wp-json/wc-shipment-tracking/v3"
        return [
            Route(f"{wc}/orders", self._list_orders, methods=["GET"]),
            Route(f"{wc}/orders/{{order_id}}", self._order, methods=["GET", "PUT", "PATCH"]),
            Route(f"{wc}/orders/{{order_id}}/notes", self._order_notes, methods=["GET", "POST"]),
            Route(f"{st}/shipment-trackings/providers", self._providers, methods=["GET"]),
            Route(
                f"{st}/orders/{{order_id}}/shipment-trackings",
                self._trackings_collection,
                methods=["GET", "POST"],
            ),
            Route(
                f"{st}/orders/{{order_id}}/shipment-trackings/{{tracking_id}}",
                self._tracking_item,
                methods=["GET", "DELETE"],
            ),
            Route(
                "/wp-json/{rest:path}",
                self._fallback,
                methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            ),
        ]

    async def _gate(self, request: Request, *, needs_auth: bool = True) -> Response | None:
        """Apply injected faults and authentication; return a response to send instead."""
        with self._lock:
            if self.site_url == "http://127.0.0.1" and request.url.hostname:
                self.site_url = f"{request.url.scheme}://{request.url.netloc}"
            fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            if fault.kind == "slow":
                await asyncio.sleep(fault.seconds)
            elif fault.kind == "malformed":
                return Response(
                    b'[{"id": 1, "status": "process', status_code=200, media_type="application/json"
                )
            else:
                return self._fault_response(fault)
        if needs_auth:
            return self._authenticate(request)
        return None

    def _fault_response(self, fault: _Fault) -> Response:
        if isinstance(fault.body, bytes):
            return Response(fault.body, status_code=fault.status, headers=fault.headers)
        body = fault.body
        if body is None:
            code = _DEFAULT_ERROR_CODES.get(fault.status, "http_error")
            body = {
                "code": code,
                "message": f"Injected HTTP {fault.status}.",
                "data": {"status": fault.status},
            }
        return JSONResponse(body, status_code=fault.status, headers=fault.headers)

    def _authenticate(self, request: Request) -> Response | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return self._auth_error("Consumer key is invalid.")
            if not hmac.compare_digest(key, self.consumer_key):
                return self._auth_error("Consumer key is invalid.")
            if not hmac.compare_digest(secret, self.consumer_secret):
                return self._auth_error("Consumer secret is invalid.")
            return None
        # PHP's $_GET: a repeated parameter keeps its last value.
        params = dict(parse_qsl(request.url.query, keep_blank_values=True))
        if not any(k.startswith("oauth_") for k in params):
            action = {"GET": "list resources", "POST": "create resources"}.get(
                request.method, "edit this resource"
            )
            verb = {"GET": "view", "POST": "create"}.get(request.method, "edit")
            return _error(401, f"woocommerce_rest_cannot_{verb}", f"Sorry, you cannot {action}.")
        missing = [k for k in OAUTH_REQUIRED if not params.get(k)]
        if missing:
            return _error(
                401,
                "woocommerce_rest_authentication_missing_parameter",
                f"Missing OAuth parameter {missing[0]}",
            )
        if not hmac.compare_digest(params["oauth_consumer_key"], self.consumer_key):
            return self._auth_error("Consumer key is invalid.")
        method = params["oauth_signature_method"]
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return self._auth_error("Invalid signature - signature method is invalid.")
        given = params.pop("oauth_signature").replace(" ", "+")
        url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        expected = oauth_signature(request.method, url, params, self.consumer_secret, method)
        if not hmac.compare_digest(expected, given):
            return self._auth_error("Invalid signature - provided signature does not match.")
        try:
            stamp = int(params["oauth_timestamp"])
        except ValueError:
            return self._auth_error("Invalid timestamp.")
        now = time.time()
        if abs(stamp - now) > OAUTH_WINDOW_SECONDS:
            return self._auth_error("Invalid timestamp.")
        with self._lock:
            self._nonces = {
                n: t for n, t in self._nonces.items() if t >= now - OAUTH_WINDOW_SECONDS
            }
            if params["oauth_nonce"] in self._nonces:
                return self._auth_error("Invalid nonce - nonce has already been used.")
            self._nonces[params["oauth_nonce"]] = stamp
        return None

    @staticmethod
    def _auth_error(message: str) -> JSONResponse:
        return _error(401, "woocommerce_rest_authentication_error", message)

    async def _json_body(self, request: Request) -> dict[str, Any] | Response:
        raw = await request.body()
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            return _error(400, "rest_invalid_json", "Invalid JSON body passed.")
        if not isinstance(data, dict):
            return _error(400, "rest_invalid_json", "Invalid JSON body passed.")
        return data

    def _find_order(self, raw_id: str) -> dict[str, Any] | None:
        try:
            return self._orders.get(int(raw_id))
        except ValueError:
            return None

    async def _fallback(self, request: Request) -> Response:
        return await self._gate(request) or _no_route()

    async def _list_orders(self, request: Request) -> Response:
        if (blocked := await self._gate(request)) is not None:
            return blocked
        query = dict(parse_qsl(request.url.query, keep_blank_values=True))
        try:
            page = int(query.get("page", "1"))
            per_page = int(query.get("per_page", "10"))
        except ValueError:
            return _invalid_param("per_page", "per_page is not of type integer.")
        if not 1 <= per_page <= 100:
            return _invalid_param(
                "per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)"
            )
        if page < 1:
            return _invalid_param("page", "page must be greater than or equal to 1")
        statuses = [s for s in query.get("status", "any").split(",") if s]
        for status in statuses:
            if status != "any" and status not in ORDER_STATUSES:
                return _invalid_param(
                    "status", f"status[0] is not one of any, {', '.join(ORDER_STATUSES)}."
                )
        orderby = query.get("orderby", "date")
        if orderby not in ORDERBY:
            return _invalid_param("orderby", f"orderby is not one of {', '.join(ORDERBY)}.")
        direction = query.get("order", "desc")
        if direction not in ("asc", "desc"):
            return _invalid_param("order", "order is not one of asc and desc.")
        gmt = query.get("dates_are_gmt", "false").lower() in ("1", "true")
        bounds: dict[str, datetime] = {}
        for name in ("modified_after", "modified_before", "after", "before"):
            if name in query:
                parsed = _parse_wp_datetime(query[name])
                if parsed is None:
                    return _invalid_param(name, "Invalid date.")
                if parsed.tzinfo is not None:  # compare in the zone of the chosen column
                    parsed = parsed.astimezone(UTC).replace(tzinfo=None)
                    if not gmt:
                        parsed += self.site_utc_offset
                bounds[name] = parsed
        suffix = "_gmt" if gmt else ""
        with self._lock:
            selected = []
            for order in self._orders.values():
                if "any" not in statuses and statuses and order["status"] not in statuses:
                    continue
                if "any" in statuses and order["status"] == "trash":
                    continue
                modified = datetime.fromisoformat(order[f"date_modified{suffix}"])
                created = datetime.fromisoformat(order[f"date_created{suffix}"])
                # WP_Date_Query's after/before are exclusive.
                if "modified_after" in bounds and not modified > bounds["modified_after"]:
                    continue
                if "modified_before" in bounds and not modified < bounds["modified_before"]:
                    continue
                if "after" in bounds and not created > bounds["after"]:
                    continue
                if "before" in bounds and not created < bounds["before"]:
                    continue
                selected.append(order)
            if orderby == "id":
                selected.sort(key=lambda o: o["id"])
            else:
                selected.sort(key=lambda o: (o["date_created_gmt"], o["id"]))
            if direction == "desc":
                selected.reverse()
            total = len(selected)
            pages = (total + per_page - 1) // per_page
            window = selected[(page - 1) * per_page : page * per_page]
            body = [self._render(o) for o in window]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        links = []
        base = f"{self.site_url}{request.url.path}"
        if page > 1:
            links.append(f'<{base}?page={page - 1}>; rel="prev"')
        if page < pages:
            links.append(f'<{base}?page={page + 1}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return JSONResponse(body, headers=headers)

    async def _order(self, request: Request) -> Response:
        if (blocked := await self._gate(request)) is not None:
            return blocked
        body = await self._json_body(request) if request.method != "GET" else {}
        if isinstance(body, Response):
            return body
        with self._lock:
            order = self._find_order(request.path_params["order_id"])
            if order is None:
                return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            if request.method == "GET":
                return JSONResponse(self._render(order))
            status = body.get("status")
            if status is not None and status not in ORDER_STATUSES:
                return _invalid_param(
                    "status", f"status is not one of {', '.join(ORDER_STATUSES)}."
                )
            meta = body.get("meta_data")
            if meta is not None and not isinstance(meta, list):
                return _invalid_param("meta_data", "meta_data is not of type array.")
            changed = False
            for entry in meta or []:
                if not isinstance(entry, dict) or "key" not in entry:
                    return _invalid_param("meta_data", "meta_data[0][key] is required.")
                self._update_meta(order, entry)
                changed = True
            if "customer_note" in body:
                order["customer_note"] = str(body["customer_note"])
                changed = True
            if status is not None and status != order["status"]:
                self._change_status(order, status)
            elif changed:
                self._touch(order)
            return JSONResponse(self._render(order))

    def _update_meta(self, order: dict[str, Any], entry: dict[str, Any]) -> None:
        """``WC_Data::update_meta_data``: by id if given, else replace every row of the key."""
        metas: list[dict[str, Any]] = order["meta_data"]
        if entry.get("id") is not None:
            for meta in metas:
                if meta["id"] == entry["id"]:
                    meta["key"], meta["value"] = entry["key"], entry.get("value")
                    return
        same = [m for m in metas if m["key"] == entry["key"]]
        if same:
            same[0]["value"] = entry.get("value")
            for extra in same[1:]:
                metas.remove(extra)
            return
        metas.append({"id": self._next_meta_id, "key": entry["key"], "value": entry.get("value")})
        self._next_meta_id += 1

    async def _order_notes(self, request: Request) -> Response:
        if (blocked := await self._gate(request)) is not None:
            return blocked
        body = await self._json_body(request) if request.method == "POST" else {}
        if isinstance(body, Response):
            return body
        with self._lock:
            order = self._find_order(request.path_params["order_id"])
            if order is None:
                return _error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
            if request.method == "GET":
                kind = request.query_params.get("type", "any")
                if kind not in ("any", "customer", "internal"):
                    return _invalid_param("type", "type is not one of any, customer, and internal.")
                notes = [
                    n
                    for n in self._notes[order["id"]]
                    if kind == "any" or n["customer_note"] == (kind == "customer")
                ]
                return JSONResponse([copy.deepcopy(n) for n in reversed(notes)])
            text = body.get("note")
            if not isinstance(text, str) or not text:
                return _error(
                    400,
                    "rest_missing_callback_param",
                    "Missing parameter(s): note",
                    params=["note"],
                )
            note = self._add_note(
                order["id"],
                text,
                customer_note=bool(body.get("customer_note", False)),
                author="WooCommerce" if body.get("added_by_user") else "system",
            )
            return JSONResponse(copy.deepcopy(note), status_code=201)

    async def _providers(self, request: Request) -> Response:
        if not self.shipment_tracking:
            return await self._gate(request) or _no_route()
        return await self._gate(request, needs_auth=False) or JSONResponse(TRACKING_PROVIDERS)

    def _provider_link(self, provider: str) -> tuple[str, str] | None:
        for region in TRACKING_PROVIDERS.values():
            for name, link in region.items():
                if _slug(name) == _slug(provider):
                    return name, link
        return None

    async def _trackings_collection(self, request: Request) -> Response:
        if (blocked := await self._gate(request)) is not None:
            return blocked
        if not self.shipment_tracking:
            return _no_route()
        body = await self._json_body(request) if request.method == "POST" else {}
        if isinstance(body, Response):
            return body
        with self._lock:
            order = self._find_order(request.path_params["order_id"])
            if order is None:
                return _error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
            items = self._trackings[order["id"]]
            if request.method == "GET":
                return JSONResponse(copy.deepcopy(items))
            number = str(body.get("tracking_number") or "").strip()
            if not number:
                return _error(
                    400,
                    "rest_missing_callback_param",
                    "Missing parameter(s): tracking_number",
                    params=["tracking_number"],
                )
            provider = str(body.get("tracking_provider") or "")
            known = self._provider_link(provider) if provider else None
            if known:
                provider_out, link = _slug(known[0]), known[1]
            else:
                provider_out = str(body.get("custom_tracking_provider") or provider)
                link = str(body.get("custom_tracking_link") or "")
            shipped = str(body.get("date_shipped") or "")
            try:
                shipped_date = (
                    datetime.fromisoformat(shipped).date() if shipped else self._stamp().date()
                )
            except ValueError:
                return _invalid_param("date_shipped", "date_shipped is not a valid date.")
            if any(i["tracking_number"] == number for i in items):
                self._duplicates += 1
            item = {
                "tracking_id": hashlib.md5(f"{number}{time.time_ns()}".encode()).hexdigest(),
                "tracking_provider": provider_out,
                "tracking_link": link.replace("%1$s", number) if link else "",
                "tracking_number": number,
                "date_shipped": shipped_date.isoformat(),
            }
            items.append(item)
            self._tracking_pushes.append((order["id"], number))
            order["meta_data"] = [
                m for m in order["meta_data"] if m["key"] != "_wc_shipment_tracking_items"
            ]
            order["meta_data"].append(
                {
                    "id": self._next_meta_id,
                    "key": "_wc_shipment_tracking_items",
                    "value": copy.deepcopy(items),
                }
            )
            self._next_meta_id += 1
            self._touch(order)
            return JSONResponse(copy.deepcopy(item), status_code=201)

    async def _tracking_item(self, request: Request) -> Response:
        if (blocked := await self._gate(request)) is not None:
            return blocked
        if not self.shipment_tracking:
            return _no_route()
        with self._lock:
            order = self._find_order(request.path_params["order_id"])
            if order is None:
                return _error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
            items = self._trackings[order["id"]]
            wanted = request.path_params["tracking_id"]
            for item in items:
                if item["tracking_id"] == wanted:
                    if request.method == "DELETE":
                        items.remove(item)
                        self._touch(order)
                    return JSONResponse(copy.deepcopy(item))
            return _error(
                404, "woocommerce_rest_shop_order_invalid_tracking_id", "Invalid tracking ID."
            )
