"""The HTTP API: orders, order notes and the Shipment Tracking extension's routes."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._errors import _DEFAULT_ERROR_CODES, _error, _invalid_param, _no_route
from ._store import ORDER_STATUSES, _Fault

ORDERBY = ("date", "id", "include", "title", "slug")

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


def _slug(name: str) -> str:
    """Approximate WordPress ``sanitize_title``: lower case, non-alphanumerics to dashes."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _parse_wp_datetime(value: str) -> datetime | None:
    """Parse an ISO 8601 date as ``rest_parse_date`` does; naive values stay naive."""
    text = value.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


class _Routes:
    """Starlette endpoints over the store's state; every one passes through ``_gate``."""

    site_url: str
    site_utc_offset: timedelta
    shipment_tracking: bool
    _lock: threading.RLock
    _orders: dict[int, dict[str, Any]]
    _notes: dict[int, list[dict[str, Any]]]
    _trackings: dict[int, list[dict[str, Any]]]
    _faults: deque[_Fault]
    _next_meta_id: int
    _tracking_pushes: list[tuple[int, str]]
    _duplicates: int
    _request_started: Callable[[Request], None]
    _request_finished: Callable[[], None]

    # -- internals: HTTP --------------------------------------------------------------

    def _routes(self) -> list[Route]:
        """The store's routes: WooCommerce's, then the Shipment Tracking extension's.

        The extension's routes are the ones its REST API documents (woocommerce.com,
        "Create a tracking item with the Shipment Tracking REST API" and its companion
        pages; the gist ``woogist/woocommerce-shipment-tracking-rest-api-doc.md``), all of
        them under one order: ``orders/<order_id>/shipment-trackings`` (GET lists, POST
        creates), ``.../shipment-trackings/<tracking_id>`` (GET, DELETE) and
        ``.../shipment-trackings/providers`` (GET). There is no route without an order id.
        """
        wc, st = "/wp-json/wc/v3", "/wp-json/wc-shipment-tracking/v3"
        return [
            Route(route.path, self._late_faults(route.endpoint), methods=route.methods)
            for route in self._plain_routes(wc, st)
        ]

    def _plain_routes(self, wc: str, st: str) -> list[Route]:
        return [
            Route(f"{wc}/orders", self._list_orders, methods=["GET"]),
            Route(f"{wc}/orders/{{order_id}}", self._order, methods=["GET", "PUT", "PATCH"]),
            Route(f"{wc}/orders/{{order_id}}/notes", self._order_notes, methods=["GET", "POST"]),
            Route(
                f"{st}/orders/{{order_id}}/shipment-trackings",
                self._trackings_collection,
                methods=["GET", "POST"],
            ),
            # Before the item route, whose {tracking_id} would also match "providers".
            Route(
                f"{st}/orders/{{order_id}}/shipment-trackings/providers",
                self._providers,
                methods=["GET"],
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
            fault = next(
                (f for f in self._faults if f.matches(request.method, request.url.path)), None
            )
            if fault is not None:
                self._faults.remove(fault)
        if fault is not None and fault.after_effect:
            request.state.late_fault = fault
        elif fault is not None:
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

    def _late_faults(
        self, endpoint: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """Wrap ``endpoint`` so that a fault queued with ``after_effect`` replaces its answer."""

        async def serve(request: Request) -> Response:
            self._request_started(request)
            try:
                response = await endpoint(request)
            finally:
                self._request_finished()
            fault = getattr(request.state, "late_fault", None)
            return self._fault_response(fault) if fault is not None else response

        return serve

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
        """The provider names by region, each mapped to its link format.

        The docs call this endpoint public; the order id in its path only places it under
        an order (WooCommerce's own mobile apps pass any order's id), so it is not looked up.
        """
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
                provider_out, link = known
            else:
                provider_out = str(body.get("custom_tracking_provider") or provider)
                link = str(body.get("custom_tracking_link") or "")
            shipped = str(body.get("date_shipped") or "")
            if shipped and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", shipped):
                return _invalid_param("date_shipped", "date_shipped must be YYYY-MM-DD.")
            try:
                shipped_date = date.fromisoformat(shipped) if shipped else self._stamp().date()
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
            # The docs name no meta key for the extension's own storage, so none is shown.
            self._touch(order)
            location = f"{self.site_url}{request.url.path}/{item['tracking_id']}"
            return JSONResponse(
                copy.deepcopy(item), status_code=201, headers={"Location": location}
            )

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
