"""A local Shopify shop serving the Admin GraphQL API 2026-10 on Shopify's official schema.

``POST /admin/api/2026-10/graphql.json`` parses, validates and executes each document
with graphql-core against the official 2026-10 schema (``shared/specs/shopify``, see
PROVENANCE.md there): a field or argument the schema does not have, a missing required
argument or a variable of the wrong type fails as on Shopify, with an ``errors`` array
and no ``data``. Resolvers read an in-memory shop (:mod:`._shopify_shop`). What is served:

* ``orders(first, after, query, sortKey, reverse)`` with the search terms
  ``updated_at:>=`` / ``>`` / ``<``, ``status:open|closed|cancelled|any`` and
  ``financial_status:``; ``order(id)``, ``fulfillmentOrder(id)``, ``locations``, ``shop``,
  ``webhookSubscriptions``;
* ``fulfillmentCreate`` (with Shopify's userErrors for unfulfillable fulfillment orders
  and over-quantities) and ``webhookSubscriptionCreate``;
* the fulfillment-service flow: ``shop.fulfillmentServices``, ``fulfillmentServiceCreate``
  (a service with a location of its own), ``assignedFulfillmentOrders(assignmentStatus,
  locationIds)``, and accepting or rejecting fulfillment and cancellation requests.

A root field of the schema that is not served answers a GraphQL error naming it.

Every answer carries ``extensions.cost`` (requested and actual cost, ``throttleStatus``)
from a leaky bucket (:mod:`._shopify_cost`); a query whose requested cost is not in the
bucket answers ``THROTTLED`` (HTTP 200), one above 1,000 points ``MAX_COST_EXCEEDED``.
Authentication is the ``X-Shopify-Access-Token`` header (401 with
``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong
password)"}`` otherwise). Webhooks are signed with ``X-Shopify-Hmac-Sha256``
(shopify.dev, "Verify webhook deliveries").

Shop data changes through the Python API (``add_order``, ``edit_quantity``, ``cancel``,
``hold``, ``move``, ``route_to_service``, ``request_cancellation``); faults through
``fail_next`` and ``lose_next_answer``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from graphql import (
    GraphQLError,
    OperationDefinitionNode,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._shopify_cost import MAX_QUERY_COST, LeakyBucket, actual_cost, requested_cost
from ._shopify_schema import API_VERSION, admin_schema
from ._shopify_shop import Order, Shop, connection, gid, number_of

__all__ = ["API_VERSION", "ShopifyImitation", "webhook_signature"]

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_SEARCH = re.compile(r"(\w+):(>=|<=|>|<)?'?([^'\s]+)'?")


def webhook_signature(secret: str, body: bytes) -> str:
    """``X-Shopify-Hmac-Sha256``: base64(HMAC-SHA256(secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class _Fault:
    kind: str
    status: int = 500
    operation: str | None = None


def _shopify_error(error: GraphQLError) -> dict[str, Any]:
    """A validation error in the shape Shopify (GraphQL-Ruby) gives it."""
    message = error.message
    extensions: dict[str, Any] = {}
    unknown = re.match(r"Cannot query field '(\w+)' on type '(\w+)'", message)
    argument = re.match(r"Unknown argument '(\w+)' on field '(\w+)\.(\w+)'", message)
    if unknown:
        message = f"Field '{unknown[1]}' doesn't exist on type '{unknown[2]}'"
        extensions = {"code": "undefinedField", "typeName": unknown[2], "fieldName": unknown[1]}
    elif argument:
        message = f"Field '{argument[3]}' doesn't accept argument '{argument[1]}'"
        extensions = {
            "code": "argumentNotAccepted",
            "name": argument[3],
            "typeName": "Field",
            "argumentName": argument[1],
        }
    shaped: dict[str, Any] = {"message": message}
    if error.locations:
        shaped["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        shaped["path"] = list(error.path)
    if extensions:
        shaped["extensions"] = extensions
    return shaped


class ShopifyImitation:
    """An in-memory Shopify shop served as a Starlette app (``.app``).

    Args:
        access_token: the Admin API token the shop accepts.
        shop: the shop's ``*.myshopify.com`` domain.
        locations: location names; the first is where new orders' goods are assigned.
        bucket_size: the app's bucket (Standard plan: 2,000 points).
        restore_rate: points restored per second (Standard plan: 100).
    """

    def __init__(
        self,
        access_token: str,
        *,
        shop: str = "fbs-test.myshopify.com",
        locations: tuple[str, ...] = ("Drop-ship warehouse", "Shop floor"),
        bucket_size: float = 2000.0,
        restore_rate: float = 100.0,
    ) -> None:
        self.access_token = access_token
        self.shop = Shop(shop, locations)
        self.bucket = LeakyBucket(bucket_size, restore_rate)
        self.schema = admin_schema()
        self.requests: Counter[str] = Counter()
        """Operations served, by operation name (throttled ones included)."""
        self.throttled: list[dict[str, Any]] = []
        """Every THROTTLED answer: the operation, requested cost and the bucket then."""
        self.served_after_throttle: list[tuple[str, float]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self.app = Starlette(
            routes=[Route("/admin/api/{version}/graphql.json", self._graphql, methods=["POST"])]
        )

    # -- Python API ---------------------------------------------------------------------

    def add_order(self, **kwargs: Any) -> Order:
        """Put a paid order on the shop (see :meth:`Shop.add_order`)."""
        return self.shop.add_order(**kwargs)

    def fail_next(self, status: int = 500, operation: str | None = None) -> None:
        """Answer the next request (of ``operation``, if given) with HTTP ``status``."""
        with self._lock:
            self._faults.append(_Fault("fail", status, operation))

    def lose_next_answer(self, operation: str) -> None:
        """Carry out the next ``operation`` but answer 502, as if the answer were lost."""
        with self._lock:
            self._faults.append(_Fault("lose", 502, operation))

    def fulfillments(self, order_id: int) -> list[Any]:
        """The fulfillments of an order, oldest first."""
        return sorted(
            (f for f in self.shop.fulfillments.values() if f.order_id == order_id),
            key=lambda f: f.id,
        )

    @property
    def duplicate_effects(self) -> int:
        """Tracking numbers fulfilled twice on one order (must stay 0)."""
        return self.shop.duplicate_effects

    # -- webhooks -----------------------------------------------------------------------

    def send_webhook(
        self,
        url: str,
        *,
        topic: str,
        secret: str,
        order_id: int | None = None,
        payload: Mapping[str, Any] | None = None,
        webhook_id: str | None = None,
        timeout: float = 10.0,
    ) -> httpx.Response:
        """POST a signed delivery of ``topic`` to ``url`` with Shopify's headers."""
        if payload is None and order_id is not None:
            order = self.shop.orders[order_id]
            payload = {
                "id": order.id,
                "admin_graphql_api_id": gid("Order", order.id),
                "name": order.name,
                "updated_at": order.updated_at.isoformat(),
            }
        body = json.dumps(payload or {}, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": webhook_signature(secret, body),
            "X-Shopify-Shop-Domain": self.shop.domain,
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        }
        return httpx.post(url, content=body, headers=headers, timeout=timeout)

    def deliver(self, topic: str, *, order_id: int, secret: str) -> list[httpx.Response]:
        """Send ``topic`` (``orders/paid``) about an order to every subscription of it.

        Subscriptions are what ``webhookSubscriptionCreate`` made; their topic is the enum
        (``ORDERS_PAID``), the delivery's ``X-Shopify-Topic`` header the path form.
        """
        enum = topic.upper().replace("/", "_")
        with self.shop._lock:
            uris = [s["uri"] for s in self.shop.subscriptions.values() if s["topic"] == enum]
        return [
            self.send_webhook(uri, topic=topic, secret=secret, order_id=order_id) for uri in uris
        ]

    # -- HTTP ---------------------------------------------------------------------------

    def _take_fault(self, operation: str | None) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.operation is None or fault.operation == operation:
                    self._faults.remove(fault)
                    return fault
        return None

    async def _graphql(self, request: Request) -> Response:
        if request.headers.get("x-shopify-access-token") != self.access_token:
            return JSONResponse({"errors": INVALID_TOKEN}, status_code=401)
        if request.path_params["version"] != API_VERSION:
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        try:
            body = json.loads(await request.body())
        except ValueError:
            return JSONResponse(
                {"errors": {"query": "Required parameter missing or invalid"}}, status_code=400
            )
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return JSONResponse(
                {"errors": {"query": "Required parameter missing or invalid"}}, status_code=400
            )
        name = body.get("operationName")
        fault = self._take_fault(name)
        if fault is not None and fault.kind == "fail":
            return JSONResponse({"errors": "Internal Server Error"}, status_code=fault.status)
        status, answer = self.run(body["query"], body.get("variables") or {}, name)
        if fault is not None and fault.kind == "lose":
            return Response(
                b"<html><body>502 Bad Gateway</body></html>",
                status_code=502,
                media_type="text/html",
            )
        return JSONResponse(answer, status_code=status)

    def run(
        self, query: str, variables: Mapping[str, Any], name: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Parse, validate, cost, throttle and execute one document; (status, body)."""
        self.requests[name or "anonymous"] += 1
        try:
            document = parse(query)
        except GraphQLError as exc:
            return 200, {"errors": [_shopify_error(exc)]}
        errors = validate(self.schema, document)
        if errors:
            return 200, {"errors": [_shopify_error(e) for e in errors]}
        operation = get_operation_ast(document, name)
        if not isinstance(operation, OperationDefinitionNode):
            return 200, {"errors": [{"message": "An operation name is required"}]}
        cost = requested_cost(self.schema, operation, variables)
        if cost > MAX_QUERY_COST:
            return 200, {
                "errors": [
                    {
                        "message": f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_QUERY_COST}).",
                        "extensions": {
                            "code": "MAX_COST_EXCEEDED",
                            "cost": cost,
                            "maxCost": MAX_QUERY_COST,
                        },
                    }
                ]
            }
        if not self.bucket.take(cost):
            status = self.bucket.status()
            self.throttled.append({"operation": name, "requested": cost, **status})
            return 200, {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/limits#rate-limits",
                        },
                    }
                ],
                "extensions": {
                    "cost": {
                        "requestedQueryCost": cost,
                        "actualQueryCost": None,
                        "throttleStatus": status,
                    }
                },
            }
        with self.shop._lock:
            result = execute(
                self.schema,
                document,
                root_value=self._root(operation),
                variable_values=dict(variables),
                operation_name=name,
            )
        spent = actual_cost(self.schema, operation, variables, result.data) if result.data else cost
        self.bucket.give_back(cost - spent)
        answer: dict[str, Any] = {}
        if result.errors:
            answer["errors"] = [_shopify_error(e) for e in result.errors]
        if result.data is not None:
            answer["data"] = result.data
        answer["extensions"] = {
            "cost": {
                "requestedQueryCost": cost,
                "actualQueryCost": spent,
                "throttleStatus": self.bucket.status(),
            }
        }
        return 200, answer

    # -- resolvers ----------------------------------------------------------------------

    def _root(self, operation: OperationDefinitionNode) -> dict[str, Any]:
        shop = self.shop
        served: dict[str, Any] = {
            "orders": self._orders,
            "order": lambda _i, id: (
                shop.render_order(shop.orders[n])
                if (n := number_of(id, "Order")) in shop.orders
                else None
            ),
            "fulfillmentOrder": lambda _i, id: (
                shop.render_fulfillment_order(shop.fulfillment_orders[n])
                if (n := number_of(id, "FulfillmentOrder")) in shop.fulfillment_orders
                else None
            ),
            "locations": lambda _i, **args: _locations(shop, args),
            "shop": {
                "id": gid("Shop", 1),
                "name": shop.domain.split(".")[0],
                "myshopifyDomain": shop.domain,
                "fulfillmentServices": lambda _i: [
                    shop.render_service(n) for n in sorted(shop.services)
                ],
            },
            "assignedFulfillmentOrders": lambda _i, **args: connection(
                shop.assigned(args.get("assignmentStatus"), args.get("locationIds")),
                shop.render_fulfillment_order,
                args,
            ),
            "fulfillmentServiceCreate": lambda _i, name, **_: shop.fulfillment_service_create(name),
            "fulfillmentOrderAcceptFulfillmentRequest": lambda _i, id, **_: shop.answer_request(
                id, "accept"
            ),
            "fulfillmentOrderRejectFulfillmentRequest": lambda _i, id, **_: shop.answer_request(
                id, "reject"
            ),
            "fulfillmentOrderAcceptCancellationRequest": lambda _i, id, **_: shop.answer_request(
                id, "accept_cancellation"
            ),
            "fulfillmentOrderRejectCancellationRequest": lambda _i, id, **_: shop.answer_request(
                id, "reject_cancellation"
            ),
            "webhookSubscriptions": lambda _i, **args: _subscriptions(shop, args),
            "fulfillmentCreate": lambda _i, fulfillment, message=None: shop.fulfillment_create(
                fulfillment
            ),
            "webhookSubscriptionCreate": lambda _i, topic, webhookSubscription: (
                shop.webhook_subscription_create(topic, webhookSubscription)
            ),
        }
        return _Root(served)

    def _orders(self, _info: Any, **args: Any) -> dict[str, Any]:
        shop = self.shop
        chosen = [o for o in shop.orders.values() if _matches(o, args.get("query") or "")]
        sort = args.get("sortKey") or "ID"
        keyed = {
            "UPDATED_AT": lambda o: (o.updated_at.isoformat(), o.id),
            "CREATED_AT": lambda o: (o.created_at.isoformat(), o.id),
        }.get(sort, lambda o: (o.id,))
        chosen.sort(key=keyed, reverse=bool(args.get("reverse")))
        if args.get("reverse"):
            raise GraphQLError("reverse is not served by this imitation")
        return connection(chosen, shop.render_order, args, key=keyed)


class _Root(dict):
    """The root value: a served field resolves; any other root field is an error."""

    def get(self, key: str, default: Any = None) -> Any:  # noqa: D102
        if key in self:
            return self[key]

        def unserved(_info: Any, **_args: Any) -> Any:
            raise GraphQLError(f"The imitation does not serve {key}")

        return unserved


def _matches(order: Order, query: str) -> bool:
    for field, op, value in _SEARCH.findall(query):
        if field == "updated_at":
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            stamp = order.updated_at
            if not {
                ">=": stamp >= moment,
                ">": stamp > moment,
                "<": stamp < moment,
                "<=": stamp <= moment,
            }.get(op or ">=", True):
                return False
        elif field == "status":
            state = "cancelled" if order.cancelled_at else "closed" if order.closed else "open"
            if value != "any" and value != state:
                return False
        elif field == "financial_status" and order.financial_status.lower() != value.lower():
            return False
    return True


def _locations(shop: Shop, args: dict[str, Any]) -> dict[str, Any]:
    items = sorted(shop.locations.items())
    return connection(
        items,
        lambda item: {
            "id": gid("Location", item[0]),
            "name": item[1],
            "isActive": True,
            "fulfillsOnlineOrders": True,
        },
        args,
        key=lambda item: item[0],
    )


def _subscriptions(shop: Shop, args: dict[str, Any]) -> dict[str, Any]:
    return connection(
        sorted(shop.subscriptions.items()),
        lambda item: dict(item[1]),
        args,
        key=lambda item: item[0],
    )
