"""The Shopify channel: paid orders in, tracking out through fulfillment orders.

It speaks the Admin GraphQL API (2026-10) over httpx; every document it sends is in
:mod:`.shopify_documents`. Orders are read by update time, oldest change first, through
every page; a poll reads at most ``max_pages_per_poll`` pages and returns the rest of a
backlog with ``more=True``. The cursor is a small JSON object:

* ``since``: the update time the current sweep reads from (the overlap already taken off
  when the sweep began, so every page of one sweep sends the same search);
* ``after``: the page cursor within the sweep, while a backlog is being read;
* ``newest``: the latest update time seen so far in the sweep;
* ``upto``: the latest update time the previous sweep had seen.

When a sweep reaches its last page the next one starts ``overlap_seconds`` before
``newest``: orders sharing a timestamp, or saved while a page was read, are read again
and the core finds them unchanged. A poll that used its page budget says ``more`` only
when it read changes past ``upto``: re-reading the overlap alone is never a backlog to
hurry through, so a busy window is read again at the usual poll interval instead of in a
loop of immediate polls.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fbs_core.adapters import OrderSource, TrackingSink, WebhookResult
from fbs_core.domain import (
    IncomingOrder,
    OrderBatch,
    TrackingPush,
    TrackingResult,
    UnreadableOrder,
)
from fbs_core.domain.carriers import Carrier
from fbs_core.errors import FatalError, RetriableError
from fbs_core.ratelimits import RateLimits

from .shopify_client import ShopifyClient
from .shopify_fulfil import Location, plan_fulfillment, tracking_input
from .shopify_mapping import CHANNEL_ORDER, is_wanted, map_order, order_gid, parse_time
from .shopify_options import SHOPIFY_COMPANIES, Mode, ShopifyOptions
from .shopify_service import AssignmentStatus, has_shipped, order_node_of, rejection
from .shopify_webhooks import (
    ORDER_TOPICS,
    PRIVACY_TOPICS,
    SUBSCRIBED_TOPICS,
    RecentDeliveries,
    lowered,
    privacy_request,
    verified,
)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_cursor(cursor: str | None) -> dict[str, str | None]:
    """The cursor's parts; a bare timestamp (or nothing) starts a new sweep."""
    if not cursor:
        return {"since": None, "after": None, "newest": None, "upto": None}
    try:
        parts = json.loads(cursor)
    except ValueError:
        parts = None
    if not isinstance(parts, dict):
        return {"since": cursor, "after": None, "newest": cursor, "upto": cursor}
    return {key: parts.get(key) for key in ("since", "after", "newest", "upto")}


def search_query(since: str | None) -> str:
    """The ``orders(query:)`` search of a sweep: open orders first, then changes."""
    if since is None:
        return "status:open"
    return f"updated_at:>='{since}'"


class ShopifyChannel(OrderSource, TrackingSink):
    """One Shopify shop, as both the source of its orders and their tracking sink."""

    kind = "channel"

    def __init__(
        self, name: str, options: ShopifyOptions, client: ShopifyClient | None = None
    ) -> None:
        super().__init__(name, options)
        self.options: ShopifyOptions = options
        self.client = client or ShopifyClient(
            options.endpoint,
            options.access_token.get_secret_value(),
            timeout=options.timeout,
            limiter=lambda: self.rate_limiter,
        )
        self.deliveries = RecentDeliveries()
        self._location: Location | None = None
        self._location_lock = threading.Lock()

    # -- identity, limits, checks -------------------------------------------------------

    def store_identity(self) -> str:
        """``shopify:<shop>.myshopify.com``: the shop's permanent domain."""
        return f"shopify:{self.options.shop}"

    def rate_limits(self) -> RateLimits:
        """The shop's cost bucket (restore rate and size), shared by its instances."""
        return RateLimits(
            cost_points_per_second=self.options.restore_rate,
            cost_points_capacity=self.options.bucket_size,
        )

    def rate_limit_key(self) -> str:
        """The shop domain: Shopify's bucket is per app and shop."""
        return f"shopify:{self.options.shop}"

    def check(self) -> None:
        """Read the shop, then make sure ``location`` names one of its locations.

        In fulfillment-service mode only the shop is read: the first poll registers the
        service if it is not there yet.
        """
        shop = self.client.execute("FbsShop").data.get("shop") or {}
        domain = str(shop.get("myshopifyDomain") or "").lower()
        if domain and domain != self.options.shop:
            raise FatalError(
                f"the access token belongs to {domain}, not to {self.options.shop}",
                code="wrong_shop",
            )
        if self.options.mode is Mode.merchant:
            self.location()

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def locations(self) -> list[Location]:
        """The shop's active locations."""
        nodes = (self.client.execute("FbsLocations").data.get("locations") or {}).get("nodes")
        return [Location(str(n["id"]), str(n["name"])) for n in nodes or [] if n.get("id")]

    def location(self) -> Location:
        """The location fbs fulfils: the configured one, or the service's own in that mode.

        In merchant mode a location that fits no ``location`` is a fatal error listing the
        shop's locations.
        """
        if self.options.mode is Mode.fulfillment_service:
            return self.service_location()
        with self._location_lock:
            if self._location is not None:
                return self._location
            found = self.locations()
            wanted = (self.options.location or "").strip()
            match = [
                loc
                for loc in found
                if wanted
                and (
                    loc.id == wanted
                    or loc.id.rsplit("/", 1)[-1] == wanted
                    or loc.name.casefold() == wanted.casefold()
                )
            ]
            if not wanted and len(found) == 1:
                match = found
            if len(match) != 1:
                listed = "; ".join(
                    f"{loc.name!r} (id {loc.id.rsplit('/', 1)[-1]})" for loc in found
                )
                problem = (
                    f"location {wanted!r} is not one of the shop's locations"
                    if wanted
                    else "location is not set and the shop has several locations"
                )
                raise FatalError(
                    f"{problem}; set location to one of: {listed or 'none found'}",
                    code="location_not_found",
                )
            self._location = match[0]
            return self._location

    def service_location(self) -> Location:
        """The location of fbs's fulfillment service, registering the service if needed."""
        with self._location_lock:
            if self._location is not None:
                return self._location
            name = self.options.service_name
            shop = self.client.execute("FbsFulfillmentServices").data.get("shop") or {}
            found = [
                s for s in shop.get("fulfillmentServices") or [] if s.get("serviceName") == name
            ]
            if not found:
                created = (
                    self.client.execute("FbsFulfillmentServiceCreate", {"name": name}).data.get(
                        "fulfillmentServiceCreate"
                    )
                    or {}
                )
                errors = created.get("userErrors") or []
                if errors:
                    text = "; ".join(str(e.get("message")) for e in errors)
                    raise FatalError(f"Shopify refused to register the service {name!r}: {text}")
                found = [created.get("fulfillmentService") or {}]
            location = found[0].get("location") or {}
            if not location.get("id"):
                raise FatalError(f"the fulfillment service {name!r} has no location")
            self._location = Location(str(location["id"]), str(location.get("name") or name))
            return self._location

    # -- intake -------------------------------------------------------------------------

    def fetch_orders(self, cursor: str | None) -> OrderBatch:
        """Return paid and cancelled orders updated since ``cursor`` (see the module doc).

        In fulfillment-service mode, read the fulfillment orders routed to fbs instead
        (:mod:`.shopify_service`).
        """
        if self.options.mode is Mode.fulfillment_service:
            return self._fetch_assigned(cursor)
        parts = read_cursor(cursor)
        since, after, newest, upto = (parts[k] for k in ("since", "after", "newest", "upto"))
        if after is None and newest is not None:  # a new sweep, overlapping the last
            start = parse_time(newest)
            overlap = timedelta(seconds=self.options.overlap_seconds)
            since = _iso(start - overlap) if start else since
            upto = newest
        query = search_query(since)
        found: dict[str, IncomingOrder | UnreadableOrder] = {}
        for _ in range(self.options.max_pages_per_poll):
            variables = {"first": self.options.page_size, "after": after, "query": query}
            connection = self.client.execute("FbsOrders", variables).data.get("orders") or {}
            for node in connection.get("nodes") or []:
                stamp = node.get("updatedAt")
                if isinstance(stamp, str) and (newest is None or _later(stamp, newest)):
                    newest = stamp
                if not is_wanted(node):
                    continue
                mapped = map_order(self._complete(node))
                found[mapped.external_id] = mapped
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                cursor_out = {"since": since, "after": None, "newest": newest, "upto": upto}
                return OrderBatch(orders=tuple(found.values()), cursor=json.dumps(cursor_out))
            after = page.get("endCursor")
        cursor_out = {"since": since, "after": after, "newest": newest, "upto": upto}
        backlog = upto is None or (newest is not None and _later(newest, upto))
        return OrderBatch(orders=tuple(found.values()), cursor=json.dumps(cursor_out), more=backlog)

    def _fetch_assigned(self, cursor: str | None) -> OrderBatch:
        """Answer the requests routed to fbs's location and return their orders."""
        location = self.service_location()
        found: dict[str, IncomingOrder | UnreadableOrder] = {}
        pages, more = 0, False
        for status in AssignmentStatus:
            after = None
            while True:
                if pages >= self.options.max_pages_per_poll:
                    more = status is not AssignmentStatus.accepted
                    break
                variables = {
                    "first": self.options.page_size,
                    "after": after,
                    "status": status.value,
                    "locationIds": [location.id],
                }
                connection = (
                    self.client.execute("FbsAssignedFulfillmentOrders", variables).data.get(
                        "assignedFulfillmentOrders"
                    )
                    or {}
                )
                pages += 1
                for fo in connection.get("nodes") or []:
                    mapped = self._answer(status, self._complete_assigned(fo))
                    found[mapped.external_id] = mapped
                page = connection.get("pageInfo") or {}
                if not page.get("hasNextPage"):
                    break
                after = page.get("endCursor")
            if more:
                break
        return OrderBatch(orders=tuple(found.values()), cursor=cursor, more=more)

    def _complete_assigned(self, fo: dict[str, Any]) -> dict[str, Any]:
        lines = fo.get("lineItems") or {}
        nodes = list(lines.get("nodes") or [])
        page = lines.get("pageInfo") or {}
        while page.get("hasNextPage"):
            data = self.client.execute(
                "FbsAssignedLines", {"id": fo["id"], "after": page.get("endCursor")}
            ).data.get("fulfillmentOrder")
            connection = (data or {}).get("lineItems") or {}
            nodes += connection.get("nodes") or []
            page = connection.get("pageInfo") or {}
        return {**fo, "lineItems": {"nodes": nodes}}

    def _answer(
        self, status: AssignmentStatus, fo: dict[str, Any]
    ) -> IncomingOrder | UnreadableOrder:
        """Accept or reject one routed fulfillment order; return its order for the core."""
        mapped = map_order(order_node_of(fo))
        if status is AssignmentStatus.requested:
            refused = rejection(mapped)
            if refused is None:
                self._request("FbsAcceptFulfillmentRequest", fo, "Accepted by fbs.")
            else:
                reason, message = refused
                self._request("FbsRejectFulfillmentRequest", fo, message[:255], reason=reason)
        elif status is AssignmentStatus.cancellation_requested:
            if has_shipped(fo):
                self._request(
                    "FbsRejectCancellationRequest", fo, "Part of this order has already shipped."
                )
            else:
                self._request("FbsAcceptCancellationRequest", fo, "Cancelled by fbs.")
                if isinstance(mapped, IncomingOrder):
                    mapped = mapped.model_copy(update={"cancelled": True})
        return mapped

    def _request(self, operation: str, fo: Mapping[str, Any], message: str, **extra: str) -> None:
        answer = self.client.execute(operation, {"id": fo["id"], "message": message, **extra})
        payload = next(iter(answer.data.values()), None) or {}
        errors = payload.get("userErrors") or []
        if errors:  # already answered (a poll whose batch was lost): nothing more to do
            text = "; ".join(str(e.get("message")) for e in errors)
            self.log.warning("%s on %s: %s", operation, fo["id"], text)

    def _complete(self, node: dict[str, Any]) -> dict[str, Any]:
        """The order node with every line item and fulfillment order read (further pages)."""
        order_id = str(node["id"])
        lines = node.get("lineItems") or {}
        if (lines.get("pageInfo") or {}).get("hasNextPage"):
            node = {**node, "lineItems": self._all_lines(order_id, lines)}
        fos = node.get("fulfillmentOrders") or {}
        if (fos.get("pageInfo") or {}).get("hasNextPage"):
            fos = {"nodes": self.fulfillment_orders(order_id)}
        else:
            fos = {"nodes": [self._complete_fo(fo) for fo in fos.get("nodes") or []]}
        return {**node, "fulfillmentOrders": fos}

    def _all_lines(self, order_id: str, first: Mapping[str, Any]) -> dict[str, Any]:
        nodes = list(first.get("nodes") or [])
        page = first.get("pageInfo") or {}
        while page.get("hasNextPage"):
            order = self.client.execute(
                "FbsOrderLines", {"id": order_id, "after": page.get("endCursor")}
            ).data.get("order")
            connection = (order or {}).get("lineItems") or {}
            nodes += connection.get("nodes") or []
            page = connection.get("pageInfo") or {}
        return {"nodes": nodes}

    def fulfillment_orders(self, order_id: str) -> list[dict[str, Any]]:
        """Every fulfillment order of an order, each with every line item."""
        found: list[dict[str, Any]] = []
        after = None
        while True:
            order = self.client.execute(
                "FbsOrderFulfillmentOrders", {"id": order_id, "after": after}
            ).data.get("order")
            if order is None:
                raise FatalError(f"Shopify has no order {order_id}", code="order_not_found")
            connection = order.get("fulfillmentOrders") or {}
            found += [self._complete_fo(fo) for fo in connection.get("nodes") or []]
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                return found
            after = page.get("endCursor")

    def _complete_fo(self, fo: dict[str, Any]) -> dict[str, Any]:
        lines = fo.get("lineItems") or {}
        nodes = list(lines.get("nodes") or [])
        page = lines.get("pageInfo") or {}
        while page.get("hasNextPage"):
            data = self.client.execute(
                "FbsFulfillmentOrderLines", {"id": fo["id"], "after": page.get("endCursor")}
            ).data.get("fulfillmentOrder")
            connection = (data or {}).get("lineItems") or {}
            nodes += connection.get("nodes") or []
            page = connection.get("pageInfo") or {}
        return {**fo, "lineItems": {"nodes": nodes}}

    # -- tracking -----------------------------------------------------------------------

    def push_tracking(self, push: TrackingPush) -> TrackingResult:
        """Fulfil the parcel's lines with its tracking, unless its number is already there."""
        gid = push.channel_data.get(CHANNEL_ORDER) or order_gid(push.external_order_id)
        order = self.client.execute("FbsOrderFulfillments", {"id": gid}).data.get("order")
        if order is None:
            raise FatalError(f"Shopify has no order {gid}", code="order_not_found")
        for fulfillment in order.get("fulfillments") or []:
            for info in fulfillment.get("trackingInfo") or []:
                if info.get("number") == push.tracking_number:
                    return TrackingResult(reference=str(fulfillment["id"]), already_present=True)
        location = self.location()
        by_fo = plan_fulfillment(
            push.lines, self.fulfillment_orders(gid), location, push.external_order_id
        )
        carrier = push.shipping_carrier
        company = SHOPIFY_COMPANIES.get(carrier.code, carrier.name)
        url = carrier.tracking_url if carrier.code is Carrier.other else push.tracking_url
        fulfillment = {
            "lineItemsByFulfillmentOrder": by_fo,
            "notifyCustomer": True,
            "trackingInfo": tracking_input(company, push.tracking_number, url),
        }
        result = (
            self.client.execute("FbsFulfillmentCreate", {"fulfillment": fulfillment}).data.get(
                "fulfillmentCreate"
            )
            or {}
        )
        errors = result.get("userErrors") or []
        if errors:
            text = "; ".join(str(e.get("message")) for e in errors)
            raise FatalError(
                f"Shopify refused to fulfil order {push.external_order_id}: {text}",
                code="shopify_fulfillment_refused",
            )
        created = result.get("fulfillment") or {}
        if not created.get("id"):
            raise RetriableError("Shopify created no fulfillment and gave no reason")
        return TrackingResult(reference=str(created["id"]))

    # -- webhooks -----------------------------------------------------------------------

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        """Verify a delivery; poll at once for order topics, drop repeats by webhook id."""
        headers = lowered(headers)
        secret = self.options.webhook_secret
        if not verified(secret.get_secret_value() if secret else None, headers, body):
            self.log.warning("refused a webhook delivery: bad or missing signature")
            return WebhookResult(status_code=401, message="bad or missing X-Shopify-Hmac-Sha256")
        shop = headers.get("x-shopify-shop-domain", "").strip().lower()
        if shop and shop != self.options.shop:
            return WebhookResult(status_code=401, message=f"a delivery for {shop}, not this shop")
        topic = headers.get("x-shopify-topic", "").strip().lower()
        delivery = headers.get("x-shopify-webhook-id", "").strip()
        if topic in PRIVACY_TOPICS:
            privacy = privacy_request(topic, body, self.store_identity())
            if privacy is None:
                return WebhookResult(status_code=400, message=f"{topic}: unreadable body")
            return WebhookResult(
                status_code=200, message=f"{topic}: carried out", privacy=(privacy,)
            )
        if delivery and self.deliveries.seen(delivery):
            return WebhookResult(status_code=200, message=f"{topic}: a repeat delivery; ignored")
        if topic in ORDER_TOPICS:
            return WebhookResult(status_code=200, poll_now=True, message=f"{topic}: polling now")
        return WebhookResult(status_code=200, message=f"{topic or 'no topic'}: ignored")

    def subscribe(self, url: str) -> list[tuple[str, str]]:
        """Subscribe the order topics to ``url``; existing subscriptions are kept as they are.

        Returns (topic, ``created`` or ``exists``) for each topic: running it twice
        creates nothing the second time.
        """
        existing: set[tuple[str, str]] = set()
        after = None
        while True:
            connection = (
                self.client.execute("FbsWebhookSubscriptions", {"after": after}).data.get(
                    "webhookSubscriptions"
                )
                or {}
            )
            existing |= {(n.get("topic"), n.get("uri")) for n in connection.get("nodes") or []}
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                break
            after = page.get("endCursor")
        outcome = []
        for topic in SUBSCRIBED_TOPICS:
            if (topic, url) in existing:
                outcome.append((topic, "exists"))
                continue
            result = (
                self.client.execute(
                    "FbsWebhookSubscriptionCreate",
                    {"topic": topic, "webhookSubscription": {"uri": url, "format": "JSON"}},
                ).data.get("webhookSubscriptionCreate")
                or {}
            )
            errors = result.get("userErrors") or []
            if errors:
                text = "; ".join(str(e.get("message")) for e in errors)
                raise FatalError(f"Shopify refused to subscribe {topic}: {text}")
            outcome.append((topic, "created"))
        return outcome


def _later(a: str, b: str) -> bool:
    first, second = parse_time(a), parse_time(b)
    return first is not None and (second is None or first > second)
