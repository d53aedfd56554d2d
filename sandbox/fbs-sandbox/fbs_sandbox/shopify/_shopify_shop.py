"""The imitation's in-memory shop: orders, fulfillment orders, fulfillments, locations.

Objects are rendered as the Admin GraphQL API 2026-10 types they stand for (``Order``,
``LineItem``, ``FulfillmentOrder``, ``FulfillmentOrderLineItem``, ``Fulfillment``,
``Location``, ``WebhookSubscription``); graphql-core resolves each field the document
asks for from these dicts, and a field the schema has but the shop does not keep resolves
to null (an error if the schema says non-null). Connections page on (sort key, id) as
Shopify's opaque cursors do, so an order updated during a sweep moves to a later page
instead of shifting the pages.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from graphql import GraphQLError

GID = "gid://shopify/{kind}/{id}"


def gid(kind: str, number: int) -> str:
    """A global id such as ``gid://shopify/Order/1001``."""
    return GID.format(kind=kind, id=number)


def number_of(global_id: Any, kind: str) -> int | None:
    """The number in a global id of ``kind``; None if it is not one."""
    prefix = f"gid://shopify/{kind}/"
    if not isinstance(global_id, str) or not global_id.startswith(prefix):
        return None
    tail = global_id[len(prefix) :]
    return int(tail) if tail.isdigit() else None


def stamp(moment: datetime) -> str:
    """A ``DateTime`` as Shopify writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def money(cents: int, currency: str) -> dict[str, Any]:
    """A ``MoneyBag`` with the same shop and presentment amount."""
    amount = {"amount": f"{Decimal(cents) / 100:.2f}", "currencyCode": currency}
    return {"shopMoney": amount, "presentmentMoney": amount}


def _encode(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode(cursor: str | None) -> Any:
    if cursor is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise GraphQLError("Invalid cursor for current pagination sort.") from None


def connection(
    items: Sequence[Any],
    render: Callable[[Any], dict[str, Any]],
    args: dict[str, Any],
    key: Callable[[Any], Any] = lambda item: item.id,
) -> dict[str, Any]:
    """A ``*Connection`` over ``items`` (already sorted by ``key``), paged by ``first``/``after``."""
    first, after = args.get("first"), args.get("after")
    if first is None and args.get("last") is None:
        raise GraphQLError("you must provide one of first or last")
    if first is not None and not 0 <= first <= 250:
        raise GraphQLError("The maximum value for the first argument is 250.")
    start = _decode(after)
    chosen = [i for i in items if start is None or list(_json(key(i))) > list(start)]
    page = chosen[: first if first is not None else 250]
    nodes = [render(i) for i in page]
    end = _encode(_json(key(page[-1]))) if page else None
    return {
        "nodes": nodes,
        "edges": [
            {"cursor": _encode(_json(key(i))), "node": n} for i, n in zip(page, nodes, strict=True)
        ],
        "pageInfo": {
            "hasNextPage": len(chosen) > len(page),
            "hasPreviousPage": start is not None,
            "startCursor": _encode(_json(key(page[0]))) if page else None,
            "endCursor": end,
        },
    }


def _json(key: Any) -> list[Any]:
    return list(key) if isinstance(key, tuple) else [key]


@dataclass
class LineItem:
    """One order line (``LineItem``)."""

    id: int
    sku: str | None
    name: str
    quantity: int
    current_quantity: int
    unit_cents: int
    requires_shipping: bool = True
    gift_card: bool = False


@dataclass
class FulfillmentOrderLine:
    """One ``FulfillmentOrderLineItem``."""

    id: int
    line_item: LineItem
    total: int
    remaining: int


@dataclass
class FulfillmentOrder:
    """What one location ships of an order (``FulfillmentOrder``)."""

    id: int
    order_id: int
    location_id: int
    status: str = "OPEN"
    request_status: str = "UNSUBMITTED"
    delivery: str = "SHIPPING"
    holds: list[dict[str, Any]] = field(default_factory=list)
    lines: list[FulfillmentOrderLine] = field(default_factory=list)


@dataclass
class Fulfillment:
    """A ``Fulfillment``: some units shipped with tracking."""

    id: int
    order_id: int
    tracking: list[dict[str, Any]]
    lines: list[tuple[int, int]]
    """(fulfillment-order line item id, quantity)."""
    created_at: datetime
    notify_customer: bool


@dataclass
class Order:
    """An ``Order``."""

    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    currency: str
    email: str | None
    phone: str | None
    shipping_address: dict[str, Any] | None
    shipping_cents: int
    tax_cents: int
    lines: list[LineItem]
    financial_status: str = "PAID"
    cancelled_at: datetime | None = None
    closed: bool = False
    note: str | None = None


class Shop:
    """The shop's data and the Python API tests and the demo drive it with."""

    def __init__(self, domain: str, location_names: Sequence[str]) -> None:
        self.domain = domain
        self._lock = threading.RLock()
        self._ids = itertools.count(1001)
        self.locations: dict[int, str] = {next(self._ids): name for name in location_names}
        self.orders: dict[int, Order] = {}
        self.fulfillment_orders: dict[int, FulfillmentOrder] = {}
        self.fulfillments: dict[int, Fulfillment] = {}
        self.subscriptions: dict[int, dict[str, Any]] = {}
        self.services: dict[int, dict[str, Any]] = {}
        """Fulfillment services by id: ``serviceName`` and ``location_id``."""
        self._order_numbers = itertools.count(1001)
        self._last_stamp = datetime(2000, 1, 1, tzinfo=UTC)
        self.duplicate_effects = 0
        """Units fulfilled beyond what a line asked for, or a tracking number used twice."""

    # -- time -----------------------------------------------------------------------

    def _now(self) -> datetime:
        """Now, to the second, as Shopify stamps ``updatedAt``."""
        now = datetime.now(UTC).replace(microsecond=0)
        self._last_stamp = max(now, self._last_stamp)
        return self._last_stamp

    def _touch(self, order: Order) -> None:
        """Mark ``order`` changed: a later ``updatedAt`` than it had (a second at least)."""
        order.updated_at = max(self._now(), order.updated_at + timedelta(seconds=1))
        self._last_stamp = max(self._last_stamp, order.updated_at)

    # -- Python API -----------------------------------------------------------------

    def add_order(
        self,
        *,
        lines: Sequence[dict[str, Any]],
        shipping: dict[str, Any] | None,
        shipping_price: str = "0.00",
        tax: str = "0.00",
        email: str | None = "buyer@example.com",
        financial_status: str = "PAID",
        location: str | None = None,
        delivery: str = "SHIPPING",
        currency: str = "USD",
    ) -> Order:
        """Put a paid order on the shop, with one fulfillment order at ``location``."""
        with self._lock:
            now = self._now()
            items = [
                LineItem(
                    id=next(self._ids),
                    sku=line.get("sku"),
                    name=str(line.get("name") or line.get("sku") or "Product"),
                    quantity=int(line["quantity"]),
                    current_quantity=int(line["quantity"]),
                    unit_cents=int(Decimal(str(line["price"])) * 100),
                    requires_shipping=bool(line.get("requires_shipping", True)),
                    gift_card=bool(line.get("gift_card", False)),
                )
                for line in lines
            ]
            order = Order(
                id=next(self._ids),
                name=f"#{next(self._order_numbers)}",
                created_at=now,
                updated_at=now,
                currency=currency,
                email=email,
                phone=None,
                shipping_address=dict(shipping) if shipping else None,
                shipping_cents=int(Decimal(shipping_price) * 100),
                tax_cents=int(Decimal(tax) * 100),
                lines=items,
                financial_status=financial_status,
            )
            self.orders[order.id] = order
            location_id = self.location_id(location) if location else min(self.locations)
            fo = FulfillmentOrder(
                id=next(self._ids), order_id=order.id, location_id=location_id, delivery=delivery
            )
            fo.lines = [
                FulfillmentOrderLine(next(self._ids), item, item.quantity, item.quantity)
                for item in items
            ]
            self.fulfillment_orders[fo.id] = fo
            return order

    def location_id(self, name: str) -> int:
        """The id of the location called ``name``."""
        return next(i for i, n in self.locations.items() if n == name)

    def order_fulfillment_orders(self, order_id: int) -> list[FulfillmentOrder]:
        """An order's fulfillment orders, oldest first."""
        return sorted(
            (fo for fo in self.fulfillment_orders.values() if fo.order_id == order_id),
            key=lambda fo: fo.id,
        )

    def edit_quantity(self, order_id: int, line_index: int, quantity: int) -> None:
        """An order edit: the line's current quantity becomes ``quantity`` (0 removes it)."""
        with self._lock:
            order = self.orders[order_id]
            item = order.lines[line_index]
            removed = item.current_quantity - quantity
            item.current_quantity = quantity
            for fo in self.order_fulfillment_orders(order_id):
                for line in fo.lines:
                    if line.line_item is item and removed > 0:
                        cut = min(line.remaining, removed)
                        line.remaining -= cut
                        line.total -= cut
                        removed -= cut
            self._touch(order)

    def cancel(self, order_id: int, *, refund: bool = True) -> None:
        """``orderCancel``: the order is cancelled (and refunded), its fulfillment orders closed."""
        with self._lock:
            order = self.orders[order_id]
            order.cancelled_at = self._now()
            order.closed = True
            if refund:
                order.financial_status = "REFUNDED"
            for fo in self.order_fulfillment_orders(order_id):
                if fo.status in ("OPEN", "IN_PROGRESS", "ON_HOLD", "SCHEDULED"):
                    fo.status = "CLOSED"
            self._touch(order)

    def hold(self, order_id: int, reason: str = "OTHER", notes: str = "") -> None:
        """``fulfillmentOrderHold`` on each open fulfillment order of the order."""
        with self._lock:
            for fo in self.order_fulfillment_orders(order_id):
                if fo.status == "OPEN":
                    fo.status = "ON_HOLD"
                    fo.holds.append({"reason": reason, "reasonNotes": notes or None})
            self._touch(self.orders[order_id])

    def move(self, order_id: int, location: str) -> None:
        """``fulfillmentOrderMove``: open fulfillment orders go to another location."""
        with self._lock:
            target = self.location_id(location)
            for fo in self.order_fulfillment_orders(order_id):
                if fo.status == "OPEN":
                    fo.location_id = target
            self._touch(self.orders[order_id])

    # -- mutations ------------------------------------------------------------------

    def fulfillment_create(self, fulfillment: dict[str, Any]) -> dict[str, Any]:
        """``fulfillmentCreate``: validate like Shopify (userErrors), then fulfil."""
        with self._lock:
            groups = fulfillment["lineItemsByFulfillmentOrder"]
            if len(groups) > 250:
                raise GraphQLError(
                    "The input array size of 251 is greater than the maximum allowed of 250."
                )
            picked: list[tuple[FulfillmentOrderLine, int]] = []
            order_ids = set()
            for group in groups:
                fo = self.fulfillment_orders.get(
                    number_of(group["fulfillmentOrderId"], "FulfillmentOrder") or -1
                )
                if fo is None:
                    return _user_error(
                        ["fulfillment"], "Invalid fulfillment order line item quantity requested."
                    )
                if fo.status not in ("OPEN", "IN_PROGRESS"):
                    return _user_error(
                        ["fulfillment"],
                        f"Fulfillment order {group['fulfillmentOrderId']} has an unfulfillable status= {fo.status.lower()}.",
                    )
                order_ids.add(fo.order_id)
                wanted = group.get("fulfillmentOrderLineItems")
                if wanted is None:
                    wanted = [
                        {"id": gid("FulfillmentOrderLineItem", li.id), "quantity": li.remaining}
                        for li in fo.lines
                    ]
                for entry in wanted:
                    line = next(
                        (
                            li
                            for li in fo.lines
                            if gid("FulfillmentOrderLineItem", li.id) == entry["id"]
                        ),
                        None,
                    )
                    if line is None or entry["quantity"] <= 0 or entry["quantity"] > line.remaining:
                        return _user_error(
                            ["fulfillment"],
                            "Invalid fulfillment order line item quantity requested.",
                        )
                    picked.append((line, entry["quantity"]))
            if len(order_ids) != 1:
                return _user_error(
                    ["fulfillment"], "All fulfillment orders must belong to the same order."
                )
            [order_id] = order_ids
            info = fulfillment.get("trackingInfo") or {}
            numbers = [n for n in [info.get("number"), *(info.get("numbers") or [])] if n]
            existing = {
                t.get("number")
                for f in self.fulfillments.values()
                if f.order_id == order_id
                for t in f.tracking
            }
            if any(n in existing for n in numbers):
                self.duplicate_effects += 1
            for line, quantity in picked:
                line.remaining -= quantity
            for group in groups:
                fo = self.fulfillment_orders[
                    number_of(group["fulfillmentOrderId"], "FulfillmentOrder")
                ]
                fo.status = "CLOSED" if all(li.remaining == 0 for li in fo.lines) else "IN_PROGRESS"
            tracking = [
                {"company": info.get("company"), "number": n, "url": info.get("url")}
                for n in numbers
            ]
            created = Fulfillment(
                id=next(self._ids),
                order_id=order_id,
                tracking=tracking,
                lines=[(line.id, q) for line, q in picked],
                created_at=self._now(),
                notify_customer=bool(fulfillment.get("notifyCustomer")),
            )
            self.fulfillments[created.id] = created
            self._touch(self.orders[order_id])
            return {"fulfillment": self.render_fulfillment(created), "userErrors": []}

    def webhook_subscription_create(
        self, topic: str, subscription: dict[str, Any]
    ) -> dict[str, Any]:
        """``webhookSubscriptionCreate``: one subscription per (topic, address)."""
        with self._lock:
            uri = subscription.get("uri") or subscription.get("callbackUrl")
            if not uri:
                return _user_error(["webhookSubscription", "uri"], "Address can't be blank")
            if any(s["topic"] == topic and s["uri"] == uri for s in self.subscriptions.values()):
                return _user_error(
                    ["webhookSubscription", "uri"], "Address for this topic has already been taken"
                )
            number = next(self._ids)
            self.subscriptions[number] = {
                "id": gid("WebhookSubscription", number),
                "topic": topic,
                "uri": uri,
                "format": subscription.get("format") or "JSON",
            }
            return {"webhookSubscription": dict(self.subscriptions[number]), "userErrors": []}

    # -- fulfillment services ---------------------------------------------------------

    def fulfillment_service_create(self, name: str) -> dict[str, Any]:
        """``fulfillmentServiceCreate``: a service and a location of its own."""
        with self._lock:
            if any(s["serviceName"] == name for s in self.services.values()):
                return _user_error(["name"], "Name has already been taken")
            location_id = next(self._ids)
            self.locations[location_id] = name
            number = next(self._ids)
            self.services[number] = {"serviceName": name, "location_id": location_id}
            return {"fulfillmentService": self.render_service(number), "userErrors": []}

    def render_service(self, number: int) -> dict[str, Any]:
        """A ``FulfillmentService``."""
        service = self.services[number]
        location_id = service["location_id"]
        return {
            "id": gid("FulfillmentService", number),
            "serviceName": service["serviceName"],
            "handle": service["serviceName"].lower().replace(" ", "-"),
            "location": {"id": gid("Location", location_id), "name": self.locations[location_id]},
        }

    def route_to_service(self, order_id: int, service_name: str) -> None:
        """Route the order's open fulfillment orders to a service, as a fulfillment request."""
        with self._lock:
            service = next(s for s in self.services.values() if s["serviceName"] == service_name)
            for fo in self.order_fulfillment_orders(order_id):
                if fo.status == "OPEN":
                    fo.location_id = service["location_id"]
                    fo.request_status = "SUBMITTED"
            self._touch(self.orders[order_id])

    def request_cancellation(self, order_id: int) -> None:
        """The merchant asks the service to stop the order's fulfillment orders."""
        with self._lock:
            for fo in self.order_fulfillment_orders(order_id):
                if fo.request_status in ("SUBMITTED", "ACCEPTED"):
                    fo.request_status = "CANCELLATION_REQUESTED"
            self._touch(self.orders[order_id])

    def assigned(
        self, status: str | None, location_ids: list[str] | None
    ) -> list[FulfillmentOrder]:
        """Fulfillment orders at service locations, by ``FulfillmentOrderAssignmentStatus``."""
        service_locations = {s["location_id"] for s in self.services.values()}
        wanted = {number_of(i, "Location") for i in location_ids} if location_ids else None
        by_status = {
            "FULFILLMENT_REQUESTED": lambda fo: fo.request_status == "SUBMITTED",
            "FULFILLMENT_ACCEPTED": lambda fo: (
                fo.request_status == "ACCEPTED" and fo.status in ("OPEN", "IN_PROGRESS")
            ),
            "CANCELLATION_REQUESTED": lambda fo: fo.request_status == "CANCELLATION_REQUESTED",
            "FULFILLMENT_UNSUBMITTED": lambda fo: fo.request_status == "UNSUBMITTED",
        }
        test = by_status.get(status or "", lambda fo: True)
        return sorted(
            (
                fo
                for fo in self.fulfillment_orders.values()
                if fo.location_id in service_locations
                and (wanted is None or fo.location_id in wanted)
                and test(fo)
            ),
            key=lambda fo: fo.id,
        )

    def answer_request(self, fo_gid: str, action: str) -> dict[str, Any]:
        """Accept or reject a fulfillment or cancellation request, as Shopify allows."""
        with self._lock:
            fo = self.fulfillment_orders.get(number_of(fo_gid, "FulfillmentOrder") or -1)
            if fo is None:
                return _user_error(["id"], "Fulfillment order does not exist.")
            expected, new_request, new_status = {
                "accept": ("SUBMITTED", "ACCEPTED", "IN_PROGRESS"),
                "reject": ("SUBMITTED", "REJECTED", fo.status),
                "accept_cancellation": (
                    "CANCELLATION_REQUESTED",
                    "CANCELLATION_ACCEPTED",
                    "CLOSED",
                ),
                "reject_cancellation": (
                    "CANCELLATION_REQUESTED",
                    "CANCELLATION_REJECTED",
                    fo.status,
                ),
            }[action]
            if fo.request_status != expected:
                return _user_error(
                    ["id"],
                    f"Cannot {action.replace('_', ' ')} a fulfillment order whose request "
                    f"status is {fo.request_status.lower()}.",
                )
            fo.request_status, fo.status = new_request, new_status
            self._touch(self.orders[fo.order_id])
            return {
                "fulfillmentOrder": self.render_fulfillment_order(fo),
                "userErrors": [],
            }

    # -- rendering ------------------------------------------------------------------

    def render_order(self, order: Order) -> dict[str, Any]:
        """An ``Order`` object."""
        cur = order.currency
        live = [li for li in order.lines if li.current_quantity > 0]
        subtotal = sum(li.unit_cents * li.current_quantity for li in live)
        address = order.shipping_address
        return {
            "__typename": "Order",
            "id": gid("Order", order.id),
            "legacyResourceId": str(order.id),
            "name": order.name,
            "createdAt": stamp(order.created_at),
            "processedAt": stamp(order.created_at),
            "updatedAt": stamp(order.updated_at),
            "cancelledAt": stamp(order.cancelled_at) if order.cancelled_at else None,
            "closed": order.closed,
            "displayFinancialStatus": order.financial_status,
            "displayFulfillmentStatus": self.fulfillment_status(order),
            "currencyCode": cur,
            "email": order.email,
            "phone": order.phone,
            "note": order.note,
            "test": False,
            "shippingAddress": _address(address) if address else None,
            "currentShippingPriceSet": money(order.shipping_cents, cur),
            "totalShippingPriceSet": money(order.shipping_cents, cur),
            "currentTotalTaxSet": money(order.tax_cents, cur),
            "currentSubtotalPriceSet": money(subtotal, cur),
            "currentTotalPriceSet": money(subtotal + order.shipping_cents + order.tax_cents, cur),
            "lineItems": lambda _info, **args: connection(order.lines, self.render_line, args),
            "fulfillmentOrders": lambda _info, **args: connection(
                self.order_fulfillment_orders(order.id), self.render_fulfillment_order, args
            ),
            "fulfillments": lambda _info, **args: [
                self.render_fulfillment(f)
                for f in sorted(self.fulfillments.values(), key=lambda f: f.id)
                if f.order_id == order.id
            ][: args.get("first") or 250],
        }

    def fulfillment_status(self, order: Order) -> str:
        """``OrderDisplayFulfillmentStatus``: how much of the order has been fulfilled."""
        lines = [li for fo in self.order_fulfillment_orders(order.id) for li in fo.lines]
        done = sum(
            q for f in self.fulfillments.values() if f.order_id == order.id for _, q in f.lines
        )
        if done == 0:
            return "UNFULFILLED"
        if all(li.remaining == 0 for li in lines):
            return "FULFILLED"
        return "PARTIALLY_FULFILLED"

    def render_line(self, item: LineItem) -> dict[str, Any]:
        """A ``LineItem`` (its order's currency is the shop's, USD)."""
        return {
            "__typename": "LineItem",
            "id": gid("LineItem", item.id),
            "sku": item.sku,
            "name": item.name,
            "title": item.name,
            "quantity": item.quantity,
            "currentQuantity": item.current_quantity,
            "requiresShipping": item.requires_shipping,
            "isGiftCard": item.gift_card,
            "discountedUnitPriceAfterAllDiscountsSet": money(item.unit_cents, "USD"),
            "originalUnitPriceSet": money(item.unit_cents, "USD"),
        }

    def render_fulfillment_order(self, fo: FulfillmentOrder) -> dict[str, Any]:
        """A ``FulfillmentOrder``."""
        name = self.locations[fo.location_id]
        return {
            "__typename": "FulfillmentOrder",
            "id": gid("FulfillmentOrder", fo.id),
            "orderId": gid("Order", fo.order_id),
            "status": fo.status,
            "requestStatus": fo.request_status,
            "assignedLocation": {
                "name": name,
                "countryCode": "US",
                "location": {
                    "__typename": "Location",
                    "id": gid("Location", fo.location_id),
                    "name": name,
                },
            },
            "deliveryMethod": {"id": gid("DeliveryMethod", fo.id), "methodType": fo.delivery},
            "fulfillmentHolds": [
                {
                    "id": gid("FulfillmentHold", fo.id * 10 + i),
                    "reason": h["reason"],
                    "reasonNotes": h["reasonNotes"],
                }
                for i, h in enumerate(fo.holds)
            ],
            "lineItems": lambda _info, **args: connection(fo.lines, self.render_fo_line, args),
            "order": lambda _info: self.render_order(self.orders[fo.order_id]),
        }

    def render_fo_line(self, line: FulfillmentOrderLine) -> dict[str, Any]:
        """A ``FulfillmentOrderLineItem``."""
        return {
            "id": gid("FulfillmentOrderLineItem", line.id),
            "remainingQuantity": line.remaining,
            "totalQuantity": line.total,
            "sku": line.line_item.sku,
            "lineItem": self.render_line(line.line_item),
        }

    def render_fulfillment(self, fulfillment: Fulfillment) -> dict[str, Any]:
        """A ``Fulfillment``."""
        return {
            "id": gid("Fulfillment", fulfillment.id),
            "name": f"{self.orders[fulfillment.order_id].name}-F{fulfillment.id}",
            "status": "SUCCESS",
            "createdAt": stamp(fulfillment.created_at),
            "trackingInfo": lambda _info, **args: [dict(t) for t in fulfillment.tracking][
                : args.get("first") or 250
            ],
        }


def _address(address: dict[str, Any]) -> dict[str, Any]:
    """A ``MailingAddress`` from a Shopify-shaped or WooCommerce-shaped dict."""
    get = address.get
    return {
        "firstName": get("firstName", get("first_name")),
        "lastName": get("lastName", get("last_name")),
        "company": get("company"),
        "address1": get("address1", get("address_1")),
        "address2": get("address2", get("address_2")),
        "city": get("city"),
        "provinceCode": get("provinceCode", get("state")),
        "zip": get("zip", get("postcode")),
        "countryCodeV2": get("countryCodeV2", get("country")),
        "phone": get("phone"),
        "name": " ".join(
            p for p in (get("firstName", get("first_name")), get("lastName", get("last_name"))) if p
        ),
    }


def _user_error(path: list[str], message: str) -> dict[str, Any]:
    return {
        "fulfillment": None,
        "webhookSubscription": None,
        "userErrors": [{"field": path, "message": message}],
    }
