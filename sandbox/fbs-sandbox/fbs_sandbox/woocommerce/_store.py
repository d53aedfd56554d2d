"""The store's state: orders, notes, trackings, counters and injected faults.

Timestamps are whole seconds, so orders can share a ``date_modified_gmt`` as they do on a
real store. The store's local time is ``site_utc_offset`` away from GMT.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

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

_STATUS_LABELS = {s: s.replace("-", " ").title() for s in ORDER_STATUSES}


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


def _wp_date(moment: datetime) -> str:
    """Render like WordPress: ``2017-03-22T19:28:08`` (no zone, whole seconds)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class _Fault:
    kind: str  # "status", "slow" or "malformed"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    seconds: float = 0.0
    after_effect: bool = False
    """Do the request's work first, then answer with the fault instead of the result."""
    method: str | None = None
    path_suffix: str | None = None
    """Only a request with this method and a path ending so meets the fault (None: any)."""

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with ``method`` to ``path`` meets this fault."""
        return (self.method is None or self.method == method) and (
            self.path_suffix is None or path.endswith(self.path_suffix)
        )


class _Store:
    """The Python API tests and the demo use, and the state the routes share."""

    site_url: str
    site_utc_offset: timedelta
    _lock: threading.RLock
    _orders: dict[int, dict[str, Any]]
    _notes: dict[int, list[dict[str, Any]]]
    _trackings: dict[int, list[dict[str, Any]]]
    _faults: deque[_Fault]
    _next_order_id: int
    _next_item_id: int
    _next_note_id: int
    _products: dict[str, int]
    _tracking_pushes: list[tuple[int, str]]
    _completed: list[int]
    _duplicates: int
    _request_times: list[float]
    _in_flight: int
    _most_in_flight: int
    _clients: set[tuple[str, int]]

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

    # -- Python API: request accounting -----------------------------------------------

    @property
    def request_times(self) -> list[float]:
        """``time.monotonic()`` at which each REST request arrived, in order."""
        with self._lock:
            return list(self._request_times)

    @property
    def most_in_flight(self) -> int:
        """The most REST requests the store was serving at one moment."""
        with self._lock:
            return self._most_in_flight

    @property
    def connections(self) -> int:
        """Distinct client connections (address and port) that sent REST requests."""
        with self._lock:
            return len(self._clients)

    def _request_started(self, request: Any) -> None:
        with self._lock:
            self._request_times.append(time.monotonic())
            self._in_flight += 1
            self._most_in_flight = max(self._most_in_flight, self._in_flight)
            if request.client is not None:
                self._clients.add((request.client.host, request.client.port))

    def _request_finished(self) -> None:
        with self._lock:
            self._in_flight -= 1

    # -- Python API: faults -----------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
        method: str | None = None,
        path_suffix: str | None = None,
    ) -> None:
        """Answer the next ``times`` API requests with ``status`` and do nothing else.

        ``body`` (JSON-able, or bytes sent verbatim) defaults to a WordPress error body.
        ``method`` and ``path_suffix`` limit the fault to requests of that method to a
        path ending so; other requests pass it by.
        """
        with self._lock:
            for _ in range(times):
                self._faults.append(
                    _Fault(
                        "status",
                        status=status,
                        headers=dict(headers or {}),
                        body=body,
                        method=method.upper() if method else None,
                        path_suffix=path_suffix,
                    )
                )

    def fail_after_next(
        self,
        status: int,
        *,
        method: str,
        path_suffix: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Do the next matching request's work, then answer it with ``status`` instead.

        The fault meets the next ``method`` request to a path ending in ``path_suffix``.
        This is the store that saved the change and then failed before it could say so (a
        PHP fatal error in a later hook, a proxy that gave up): the caller sees an error
        although the effect happened. ``body`` as in :meth:`fail_next`; bytes (an HTML
        error page, say) are sent verbatim.
        """
        with self._lock:
            self._faults.append(
                _Fault(
                    "status",
                    status=status,
                    headers=dict(headers or {}),
                    body=body,
                    after_effect=True,
                    method=method.upper(),
                    path_suffix=path_suffix,
                )
            )

    def slow_next(
        self,
        seconds: float,
        times: int = 1,
        *,
        method: str | None = None,
        path_suffix: str | None = None,
    ) -> None:
        """Delay the next ``times`` API requests by ``seconds``, then serve them normally.

        ``method`` and ``path_suffix`` limit the delay as in :meth:`fail_next`.
        """
        with self._lock:
            for _ in range(times):
                self._faults.append(
                    _Fault(
                        "slow",
                        seconds=seconds,
                        method=method.upper() if method else None,
                        path_suffix=path_suffix,
                    )
                )

    @property
    def pending_faults(self) -> int:
        """Injected faults no request has met yet."""
        with self._lock:
            return len(self._faults)

    def malformed_next(self, times: int = 1) -> None:
        """Answer the next ``times`` API requests with 200 and a truncated JSON body."""
        with self._lock:
            for _ in range(times):
                self._faults.append(_Fault("malformed"))

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
