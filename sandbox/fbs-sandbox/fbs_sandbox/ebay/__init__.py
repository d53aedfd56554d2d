"""A local eBay: OAuth token endpoint, Sell Fulfillment API and notification public keys.

Sources: the Sell Fulfillment API's official OpenAPI document
(``ebay/sell_fulfillment_v1_oas3.json`` in the specs folder, v1.20.7) for every
fulfillment route, parameter, body and status; eBay's OAuth guide ("Using a refresh token
to update a User access token", "client credentials grant") for
``POST /identity/v1/oauth2/token`` and its ``invalid_grant``/``invalid_client`` errors;
eBay's API call limits page for the 429 answer once the daily quota is spent (error
``2001`` "Too many requests"); eBay's OAuth error ``1001`` "Invalid access token" for a
401; the Notification API's ``getPublicKey`` and the marketplace account deletion guide
for ``GET /commerce/notification/v1/public_key/{public_key_id}`` and the
``X-EBAY-SIGNATURE`` header.

What it serves:

* ``POST /identity/v1/oauth2/token``: ``refresh_token`` (user tokens, lifetime
  ``token_lifetime_seconds``) and ``client_credentials`` (application tokens) grants,
  with HTTP Basic application keys;
* ``GET /sell/fulfillment/v1/order`` with ``filter`` (``lastmodifieddate:[from..to]``,
  ``orderfulfillmentstatus:{A|B}``), ``limit`` (1..200, default 50), ``offset``, paged
  with ``total``/``next``/``prev``; ``GET .../order/{orderId}``;
* ``GET|POST .../order/{orderId}/shipping_fulfillment`` and
  ``GET .../shipping_fulfillment/{fulfillmentId}``; fulfilled quantities update the line
  and order fulfillment statuses;
* ``GET /commerce/notification/v1/public_key/{public_key_id}``: a test ECDSA P-256 key
  pair made for this imitation; :meth:`EbayImitation.signature_header` signs a body.

Every fulfillment request and every response of a status the document declares is
validated against the document (:mod:`.ebay_contract`); a request that breaks it is
answered 400 and both kinds of problem are kept in :attr:`EbayImitation.contract_problems`.
Every fulfillment call counts against ``daily_quota``; once it is spent each call is
answered 429 until :meth:`EbayImitation.reset_quota` (eBay's daily reset).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl
from xml.etree import ElementTree as ET

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import ebay_trading_xml as trading
from .ebay_contract import BASE_PATH, FulfillmentContract
from .ebay_store import (
    EIS_HUB,
    StoreState,
    build_order,
    parse_stamp,
    refresh_statuses,
    stamp,
)

__all__ = ["EIS_HUB", "EbayImitation"]

_Handler = Callable[[Request, bytes], Awaitable[tuple[int, Any, dict[str, str]]]]
_FILTER_DATE = re.compile(r"^lastmodifieddate:\[([^\]]*)\.\.([^\]]*)\]$")
_FILTER_STATUS = re.compile(r"^orderfulfillmentstatus:\{([A-Z_|]+)\}$")
KEY_ID = "fbs-imitation-key-1"


def _error(
    error_id: int, message: str, *, domain: str = "API_FULFILLMENT", long: str = ""
) -> dict[str, Any]:
    return {
        "errors": [
            {
                "errorId": error_id,
                "domain": domain,
                "category": "REQUEST",
                "message": message,
                "longMessage": long or message,
            }
        ]
    }


class EbayImitation:
    """An eBay seller account and the APIs fbs calls, for tests and the demo.

    Args:
        client_id, client_secret: the application keys the token endpoint accepts.
        refresh_token: the one refresh token it accepts (until revoked).
        seller_id: the seller's user id on every order.
        token_lifetime_seconds: how long an access token lives.
        daily_quota: fulfillment calls per day before 429 (None: no limit).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        seller_id: str = "fbs-parts-seller",
        token_lifetime_seconds: int = 7200,
        daily_quota: int | None = None,
        trading_token: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.seller_id = seller_id
        self.token_lifetime_seconds = token_lifetime_seconds
        self.daily_quota = daily_quota
        self.trading_token = trading_token
        self.trading_problems: list[str] = []
        """Trading requests that broke the call reference (must stay empty)."""
        self.contract = FulfillmentContract()
        self._state = StoreState()
        self._lock = threading.RLock()
        self._expire_after: int | None = None
        self._lost_answers: list[tuple[str, str, str | None]] = []
        self._signing_key = ec.generate_private_key(ec.SECP256R1())
        fulfillment = [
            ("/order", self._get_orders, ["GET"]),
            ("/order/{orderId}", self._get_order, ["GET"]),
            ("/order/{orderId}/shipping_fulfillment", self._get_fulfillments, ["GET"]),
            ("/order/{orderId}/shipping_fulfillment", self._create_fulfillment, ["POST"]),
            (
                "/order/{orderId}/shipping_fulfillment/{fulfillmentId}",
                self._get_fulfillment,
                ["GET"],
            ),
        ]
        routes = [
            Route("/identity/v1/oauth2/token", self._token, methods=["POST"]),
            Route("/ws/api.dll", self._trading, methods=["POST"]),
            Route(
                "/commerce/notification/v1/public_key/{public_key_id}",
                self._public_key,
                methods=["GET"],
            ),
        ]
        by_path: dict[str, dict[str, _Handler]] = {}
        for template, handler, methods in fulfillment:
            for method in methods:
                by_path.setdefault(template, {})[method] = handler
        for template, handlers in by_path.items():
            routes.append(
                Route(
                    BASE_PATH + template,
                    self._endpoint(template, handlers),
                    methods=list(handlers),
                )
            )
        self.app = Starlette(routes=routes)

    # -- the Python API for tests and the demo ------------------------------------------

    def add_order(
        self,
        lines: list[dict[str, Any]],
        ship_to: dict[str, Any],
        *,
        shipping: str = "0.00",
        tax: str = "0.00",
        ebay_collects_tax: bool = False,
        eis_reference: str | None = None,
        buyer: str = "buyer_one",
        ship_by: datetime | None = None,
    ) -> dict[str, Any]:
        """Put a paid order on the account and return it as getOrder shows it.

        ``lines``: ``{"sku", "quantity", "price", "title"?, "legacy_item_id"?}`` (leave out
        ``sku`` for a listing without one). ``ship_to``: an ``ExtendedContact``. With
        ``eis_reference`` the order ships through eBay International Shipping: its ship-to
        is eBay's US hub and ``shipToReferenceId`` the reference.
        """
        with self._lock:
            now = self.now()
            number = next(self._state.ids)
            order_id = f"{10 + number:02d}-{11000 + number:05d}-{22000 + number:05d}"
            order = build_order(
                order_id,
                now,
                seller_id=self.seller_id,
                buyer=buyer,
                lines=lines,
                ship_to=ship_to,
                shipping=shipping,
                tax=tax,
                ebay_collects_tax=ebay_collects_tax,
                eis_reference=eis_reference,
                ship_by=ship_by or now + timedelta(days=2),
            )
            self._state.orders[order_id] = order
            self._state.fulfillments[order_id] = []
            return json.loads(json.dumps(order))

    def order(self, order_id: str) -> dict[str, Any]:
        """The order as getOrder shows it now."""
        with self._lock:
            return json.loads(json.dumps(self._state.orders[order_id]))

    def fulfillments(self, order_id: str) -> list[dict[str, Any]]:
        """The order's shipping fulfillments as getShippingFulfillments shows them."""
        with self._lock:
            return json.loads(json.dumps(self._state.fulfillments.get(order_id, [])))

    def request_cancel(self, order_id: str) -> None:
        """The buyer asks to cancel: a ``REQUESTED`` cancel request, state ``IN_PROGRESS``."""
        with self._lock:
            order = self._state.orders[order_id]
            order["cancelStatus"] = {
                "cancelState": "IN_PROGRESS",
                "cancelRequests": [
                    {
                        "cancelInitiator": "Buyer",
                        "cancelReason": "ORDERED_BY_MISTAKE",
                        "cancelRequestId": f"5{len(order_id):09d}",
                        "cancelRequestState": "REQUESTED",
                        "cancelRequestedDate": stamp(self.now()),
                    }
                ],
            }
            self._touch(order)

    def decide_cancel(self, order_id: str, *, approved: bool) -> None:
        """EBay decides a cancellation: ``CANCELED`` when approved, back to none if not."""
        with self._lock:
            order = self._state.orders[order_id]
            requests = order["cancelStatus"].get("cancelRequests") or []
            for request in requests:
                request["cancelRequestState"] = "COMPLETED" if approved else "REJECTED"
                if approved:
                    request["cancelCompletedDate"] = stamp(self.now())
            if approved:
                order["cancelStatus"] = {
                    "cancelState": "CANCELED",
                    "cancelledDate": stamp(self.now()),
                    "cancelRequests": requests,
                }
            else:
                order["cancelStatus"] = {
                    "cancelState": "NONE_REQUESTED",
                    "cancelRequests": requests,
                }
            self._touch(order)

    def expire_tokens_after(self, calls: int) -> None:
        """Let every access token issued so far expire after ``calls`` more API calls."""
        with self._lock:
            self._expire_after = calls

    def revoke_refresh_token(self) -> None:
        """The seller revoked the application's access: refresh grants get invalid_grant."""
        with self._lock:
            self._state.refresh_revoked = True
            self._state.tokens.clear()

    def lose_next_answer(self, method: str, path_suffix: str, call: str | None = None) -> None:
        """Carry out the next matching call, then answer it 500 (a lost answer).

        ``call`` narrows a Trading API match to one call name (``CompleteSale``).
        """
        with self._lock:
            self._lost_answers.append((method.upper(), path_suffix, call))

    def reset_quota(self) -> None:
        """EBay's daily reset: the quota is whole again."""
        with self._lock:
            self._state.calls_today = 0

    def now(self) -> datetime:
        """The imitation's clock."""
        return datetime.now(UTC)

    @property
    def calls_today(self) -> int:
        """Fulfillment calls counted against today's quota."""
        with self._lock:
            return self._state.calls_today

    @property
    def rate_limited(self) -> int:
        """Calls answered 429 because the quota was spent."""
        with self._lock:
            return self._state.rate_limited

    @property
    def token_grants(self) -> int:
        """Access tokens issued (user and application)."""
        with self._lock:
            return self._state.token_grants

    @property
    def duplicate_effects(self) -> int:
        """Shipping fulfillments created for a tracking number the order already had."""
        with self._lock:
            return self._state.duplicate_effects

    @property
    def answers_lost(self) -> int:
        """Calls carried out whose answer was replaced by a 500 (``lose_next_answer``)."""
        with self._lock:
            return self._state.answers_lost

    @property
    def fulfillment_count(self) -> int:
        """Shipping fulfillments created on every order."""
        with self._lock:
            return sum(len(found) for found in self._state.fulfillments.values())

    @property
    def fulfilled_orders(self) -> int:
        """Orders whose every line has shipped (``orderFulfillmentStatus`` ``FULFILLED``)."""
        with self._lock:
            return sum(
                1 for o in self._state.orders.values() if o["orderFulfillmentStatus"] == "FULFILLED"
            )

    @property
    def contract_problems(self) -> list[str]:
        """Requests and responses that broke the official document (must stay empty)."""
        return list(self.contract.problems)

    def signature_header(
        self, body: bytes, *, key: ec.EllipticCurvePrivateKey | None = None
    ) -> str:
        """``X-EBAY-SIGNATURE`` for ``body``, signed with the imitation's key (or ``key``)."""
        signer = key or self._signing_key
        signature = signer.sign(body, ec.ECDSA(hashes.SHA1()))
        header = {
            "alg": "ecdsa",
            "kid": KEY_ID,
            "signature": base64.b64encode(signature).decode(),
            "digest": "SHA1",
        }
        return base64.b64encode(json.dumps(header).encode()).decode()

    # -- plumbing -------------------------------------------------------------------------

    def _touch(self, order: dict[str, Any]) -> None:
        order["lastModifiedDate"] = stamp(self.now())

    def _endpoint(
        self, template: str, handlers: dict[str, _Handler]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
            query = request.url.query
            problem = self.contract.request_problem(
                request.method, request.url.path, query, headers, body
            )
            refused = self._refuse(request)
            if refused is not None:
                status, payload, extra = refused
            elif problem is not None:
                status, payload, extra = 400, None, {}
            else:
                status, payload, extra = await handlers[request.method](request, body)
                status = self._maybe_lose(request, status)
            content = json.dumps(payload).encode() if payload is not None else b""
            response_headers = {**extra}
            if payload is not None:
                response_headers["content-type"] = "application/json"
            if self.contract.declares(request.method, template, status):
                self.contract.response_problem(
                    request.method,
                    request.url.path,
                    query,
                    headers,
                    body,
                    status,
                    list(response_headers.items()),
                    content,
                )
            return Response(content, status_code=status, headers=response_headers)

        return endpoint

    def _refuse(self, request: Request) -> tuple[int, Any, dict[str, str]] | None:
        """401 for a missing or expired user token; 429 once the quota is spent."""
        with self._lock:
            auth = request.headers.get("authorization", "")
            token = self._state.tokens.get(auth.removeprefix("Bearer ").strip())
            if self._expire_after is not None:
                if self._expire_after <= 0:
                    for issued in self._state.tokens.values():
                        issued.expires_at = min(issued.expires_at, self.now())
                    self._expire_after = None
                else:
                    self._expire_after -= 1
            if token is None or not token.user or token.expires_at <= self.now():
                return 401, _error(1001, "Invalid access token", domain="OAuth",
                                   long="Invalid access token. Check the value of the Authorization HTTP request header."), {}  # fmt: skip
            day = self.now().date().isoformat()
            if day != self._state.quota_day:
                self._state.quota_day, self._state.calls_today = day, 0
            if self.daily_quota is not None and self._state.calls_today >= self.daily_quota:
                self._state.rate_limited += 1
                return 429, _error(2001, "Too many requests.", domain="ACCESS",
                                   long="The request limit has been reached for the resource."), {}  # fmt: skip
            self._state.calls_today += 1
            return None

    def _maybe_lose(self, request: Request, status: int) -> int:
        with self._lock:
            name = request.headers.get("x-ebay-api-call-name")
            for index, (method, suffix, call) in enumerate(self._lost_answers):
                if (
                    request.method == method
                    and request.url.path.endswith(suffix)
                    and status < 300
                    and (call is None or call == name)
                ):
                    del self._lost_answers[index]
                    self._state.answers_lost += 1
                    return 500
        return status

    # -- OAuth and keys -----------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse(
                {"error": "invalid_client", "error_description": "client authentication failed"},
                status_code=401,
            )
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        grant = form.get("grant_type")
        with self._lock:
            if grant == "refresh_token":
                if self._state.refresh_revoked or form.get("refresh_token") != self.refresh_token:
                    return JSONResponse(
                        {
                            "error": "invalid_grant",
                            "error_description": "the provided authorization refresh token is invalid or was issued to another client",
                        },
                        status_code=400,
                    )
                token = self._state.issue(self.now(), self.token_lifetime_seconds, user=True)
                kind = "User Access Token"
            elif grant == "client_credentials":
                token = self._state.issue(self.now(), 7200, user=False)
                kind = "Application Access Token"
            else:
                return JSONResponse(
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "grant type in request is not supported by the authorization server",
                    },
                    status_code=400,
                )
        lifetime = int((token.expires_at - self.now()).total_seconds() + 0.5)
        return JSONResponse(
            {"access_token": token.value, "expires_in": lifetime, "token_type": kind}
        )

    async def _public_key(self, request: Request) -> Response:
        with self._lock:
            token = self._state.tokens.get(
                request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            )
        if token is None or token.user:
            return JSONResponse(
                _error(1001, "Invalid access token", domain="OAuth"), status_code=401
            )
        if request.path_params["public_key_id"] != KEY_ID:
            return JSONResponse(
                _error(195001, "The specified key id is invalid.", domain="API_NOTIFICATION"),
                status_code=404,
            )
        pem = self._signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return JSONResponse(
            {"algorithm": "ECDSA", "digest": "SHA1", "format": "PEM", "key": pem.decode()}
        )

    # -- Trading API ---------------------------------------------------------------------------

    async def _trading(self, request: Request) -> Response:
        """One Trading API call: GetOrders or CompleteSale, in XML."""
        body = await request.body()
        call = request.headers.get("x-ebay-api-call-name", "")
        now = self.now()

        def failure(code: str, short: str, long: str = "") -> Response:
            root = trading.response(call or "Unknown", now, errors=[(code, short, long or short)])
            return Response(trading.render(root), media_type="text/xml")

        missing = [h for h in trading.REQUIRED_HEADERS if not request.headers.get(h)]
        if missing:
            self.trading_problems.append(f"{call}: missing headers {missing}")
            return failure("37", "Input data is invalid.", f"Missing headers: {', '.join(missing)}")
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            self.trading_problems.append(f"{call}: the body is not XML")
            return failure("5", "XML Parse error.")
        problems = (
            trading.request_problems(call, root)
            if call in trading.REQUEST_ELEMENTS
            else [f"unsupported call {call}"]
        )
        if problems:
            self.trading_problems.extend(problems)
            return failure("37", "Input data is invalid.", "; ".join(problems))
        token = trading.child_text(root, "RequesterCredentials", "eBayAuthToken")
        with self._lock:
            if self.trading_token is None or token != self.trading_token:
                return failure(
                    "931",
                    "Auth token is invalid.",
                    "Validation of the authentication token in API request failed.",
                )
            day = now.date().isoformat()
            if day != self._state.quota_day:
                self._state.quota_day, self._state.calls_today = day, 0
            if self.daily_quota is not None and self._state.calls_today >= self.daily_quota:
                self._state.rate_limited += 1
                return failure(
                    "518",
                    "Call usage limit has been reached.",
                    "Your application has exceeded usage limit on this call, please make call to GetAPIAccessRules to check your call usage.",
                )
            self._state.calls_today += 1
        if call == "GetOrders":
            answer = self._trading_get_orders(root, now)
        else:
            answer = self._trading_complete_sale(root, now)
        status = self._maybe_lose(request, 200)
        if status != 200:
            return Response(
                b"<html><body>Internal Server Error</body></html>",
                status_code=status,
                media_type="text/html",
            )
        return Response(trading.render(answer), media_type="text/xml")

    def _trading_get_orders(self, root: ET.Element, now: datetime) -> ET.Element:
        ids = [e.text for e in root.iter(f"{{{trading.NS}}}OrderID") if e.text]
        mod_from = trading.child_text(root, "ModTimeFrom")
        mod_to = trading.child_text(root, "ModTimeTo")
        status = trading.child_text(root, "OrderStatus") or "All"
        per_page = int(trading.child_text(root, "Pagination", "EntriesPerPage") or "25")
        page = int(trading.child_text(root, "Pagination", "PageNumber") or "1")
        if not ids and not (mod_from and mod_to):
            return trading.response(
                "GetOrders",
                now,
                errors=[
                    (
                        "37",
                        "Input data is invalid.",
                        "ModTimeFrom and ModTimeTo, a create time range or order ids are required.",
                    )
                ],
            )
        if not 1 <= per_page <= 100 or page < 1:
            return trading.response(
                "GetOrders",
                now,
                errors=[
                    (
                        "37",
                        "Input data is invalid.",
                        "EntriesPerPage must be 1 to 100 and PageNumber at least 1.",
                    )
                ],
            )
        with self._lock:
            chosen = sorted(self._state.orders.values(), key=lambda o: o["creationDate"])
            if ids:
                chosen = [o for o in chosen if o["orderId"] in ids]
            else:
                low, high = parse_stamp(mod_from or ""), parse_stamp(mod_to or "")
                chosen = [o for o in chosen if low <= parse_stamp(o["lastModifiedDate"]) <= high]
            if status != "All":
                chosen = [o for o in chosen if trading.order_status(o) == status]
            pages = max(1, -(-len(chosen) // per_page))
            shown = chosen[(page - 1) * per_page : page * per_page]
            answer = trading.response("GetOrders", now)
            pagination = ET.Element("PaginationResult")
            ET.SubElement(pagination, "TotalNumberOfPages").text = str(pages)
            ET.SubElement(pagination, "TotalNumberOfEntries").text = str(len(chosen))
            answer.insert(3, pagination)
            ET.SubElement(answer, "HasMoreOrders").text = "true" if page < pages else "false"
            array = ET.SubElement(answer, "OrderArray")
            for order in shown:
                trading.order_element(array, order, self._state.fulfillments[order["orderId"]])
            ET.SubElement(answer, "OrdersPerPage").text = str(per_page)
            ET.SubElement(answer, "PageNumber").text = str(page)
            ET.SubElement(answer, "ReturnedOrderCountActual").text = str(len(shown))
        return answer

    def _trading_complete_sale(self, root: ET.Element, now: datetime) -> ET.Element:
        line_item = trading.child_text(root, "OrderLineItemID")
        item_id = trading.child_text(root, "ItemID")
        transaction = trading.child_text(root, "TransactionID")
        number = trading.child_text(
            root, "Shipment", "ShipmentTrackingDetails", "ShipmentTrackingNumber"
        )
        carrier = trading.child_text(
            root, "Shipment", "ShipmentTrackingDetails", "ShippingCarrierUsed"
        )
        shipped = trading.child_text(root, "Shipment", "ShippedTime")
        if bool(number) != bool(carrier):
            return trading.response(
                "CompleteSale",
                now,
                errors=[
                    (
                        "37",
                        "Input data is invalid.",
                        "ShipmentTrackingNumber and ShippingCarrierUsed go together.",
                    )
                ],
            )
        if line_item and not (item_id and transaction):
            item_id, _, transaction = line_item.partition("-")
        with self._lock:
            for order in self._state.orders.values():
                for line in order["lineItems"]:
                    if (
                        line["legacyItemId"] == item_id
                        and trading.transaction_id(line) == transaction
                    ):
                        return self._trading_ship(order, line, number, carrier, shipped, now)
        return trading.response(
            "CompleteSale",
            now,
            errors=[
                (
                    "21916584",
                    "Invalid ItemID or TransactionID.",
                    f"No order line item {item_id}-{transaction}.",
                )
            ],
        )

    def _trading_ship(
        self,
        order: dict[str, Any],
        line: dict[str, Any],
        number: str | None,
        carrier: str | None,
        shipped: str | None,
        now: datetime,
    ) -> ET.Element:
        fulfillments = self._state.fulfillments[order["orderId"]]
        if number:
            if any(
                f.get("shipmentTrackingNumber") == number
                and any(r["lineItemId"] == line["lineItemId"] for r in f["lineItems"])
                for f in fulfillments
            ):
                self._state.duplicate_effects += 1
            fulfillments.append(
                {
                    "fulfillmentId": f"{9400000000 + next(self._state.ids)}",
                    "lineItems": [{"lineItemId": line["lineItemId"], "quantity": line["quantity"]}],
                    "shipmentTrackingNumber": number,
                    "shippingCarrierCode": carrier,
                    "shippedDate": shipped or stamp(now),
                }
            )
            refresh_statuses(order, fulfillments)
            self._touch(order)
        return trading.response("CompleteSale", now)

    # -- Sell Fulfillment handlers ----------------------------------------------------------

    async def _get_orders(self, request: Request, body: bytes) -> tuple[int, Any, dict[str, str]]:
        params = request.query_params
        try:
            limit = int(params.get("limit", "50"))
            offset = int(params.get("offset", "0"))
        except ValueError:
            return 400, _error(30900, "Invalid limit or offset"), {}
        if not 1 <= limit <= 200 or offset < 0:
            return 400, _error(30900, f"Invalid limit {limit} or offset {offset}"), {}
        since = until = None
        statuses: set[str] | None = None
        for criterion in filter(None, (params.get("filter") or "").split(",")):
            date = _FILTER_DATE.match(criterion.strip())
            status = _FILTER_STATUS.match(criterion.strip())
            try:
                if date:
                    since = parse_stamp(date.group(1)) if date.group(1) else None
                    until = parse_stamp(date.group(2)) if date.group(2) else None
                elif status:
                    statuses = set(status.group(1).split("|"))
                else:
                    return 400, _error(30700, f"Invalid filter name: {criterion}"), {}
            except ValueError:
                return 400, _error(30810, "Invalid date format"), {}
        with self._lock:
            chosen = [
                o
                for o in sorted(self._state.orders.values(), key=lambda o: o["creationDate"])
                if (since is None or parse_stamp(o["lastModifiedDate"]) >= since)
                and (until is None or parse_stamp(o["lastModifiedDate"]) <= until)
                and (statuses is None or o["orderFulfillmentStatus"] in statuses)
            ]
            page = json.loads(json.dumps(chosen[offset : offset + limit]))
        base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"

        def href(at: int) -> str:
            query = f"limit={limit}&offset={at}"
            if params.get("filter"):
                query = f"filter={params['filter']}&{query}"
            return f"{base}?{query}"

        result: dict[str, Any] = {
            "href": href(offset), "limit": limit, "offset": offset, "total": len(chosen), "orders": page,
        }  # fmt: skip
        if offset + limit < len(chosen):
            result["next"] = href(offset + limit)
        if offset > 0:
            result["prev"] = href(max(offset - limit, 0))
        return 200, result, {}

    async def _get_order(self, request: Request, body: bytes) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            order = self._state.orders.get(request.path_params["orderId"])
            if order is None:
                return 404, None, {}
            return 200, json.loads(json.dumps(order)), {}

    async def _get_fulfillments(
        self, request: Request, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        order_id = request.path_params["orderId"]
        with self._lock:
            if order_id not in self._state.orders:
                return 400, _error(32100, f"Invalid Order Id: {order_id}"), {}
            found = json.loads(json.dumps(self._state.fulfillments[order_id]))
        return 200, {"fulfillments": found, "total": len(found)}, {}

    async def _get_fulfillment(
        self, request: Request, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        order_id = request.path_params["orderId"]
        with self._lock:
            for fulfillment in self._state.fulfillments.get(order_id, []):
                if fulfillment["fulfillmentId"] == request.path_params["fulfillmentId"]:
                    return 200, json.loads(json.dumps(fulfillment)), {}
        return 404, None, {}

    async def _create_fulfillment(
        self, request: Request, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        order_id = request.path_params["orderId"]
        document = json.loads(body)
        with self._lock:
            order = self._state.orders.get(order_id)
            if order is None:
                return 400, _error(32100, f"Invalid Order Id: {order_id}"), {}
            if order["cancelStatus"].get("cancelState") == "CANCELED":
                return 400, _error(32800, "The order has been cancelled."), {}
            fulfillments = self._state.fulfillments[order_id]
            lines = {line["lineItemId"]: line for line in order["lineItems"]}
            shipped: dict[str, int] = {}
            for existing in fulfillments:
                for ref in existing["lineItems"]:
                    shipped[ref["lineItemId"]] = shipped.get(ref["lineItemId"], 0) + ref["quantity"]
            refs = document.get("lineItems") or []
            if not refs:
                return 400, _error(32200, "lineItems is required."), {}
            for ref in refs:
                line = lines.get(ref.get("lineItemId"))
                if line is None:
                    return 400, _error(32400, f"Invalid line item id: {ref.get('lineItemId')}"), {}
                if (
                    ref.get("quantity", 0) < 1
                    or shipped.get(line["lineItemId"], 0) + ref["quantity"] > line["quantity"]
                ):
                    return (
                        400,
                        _error(32500, f"Invalid quantity for line item {line['lineItemId']}"),
                        {},
                    )
            number = document.get("trackingNumber")
            if number and any(f.get("shipmentTrackingNumber") == number for f in fulfillments):
                self._state.duplicate_effects += 1
            fulfillment_id = f"{9400000000 + next(self._state.ids)}"
            fulfillment = {
                "fulfillmentId": fulfillment_id,
                "lineItems": [
                    {"lineItemId": r["lineItemId"], "quantity": r["quantity"]} for r in refs
                ],
                "shipmentTrackingNumber": number,
                "shippingCarrierCode": document.get("shippingCarrierCode"),
                "shippedDate": document.get("shippedDate") or stamp(self.now()),
            }
            fulfillments.append(fulfillment)
            refresh_statuses(order, fulfillments)
            location = (
                f"{request.url.scheme}://{request.url.netloc}{request.url.path}/{fulfillment_id}"
            )
            order["fulfillmentHrefs"].append(location)
            self._touch(order)
        return 201, {}, {"Location": location}
