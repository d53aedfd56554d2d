"""The WooCommerce channel: reads paid orders, writes notes, tracking and completion back."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr

from fbs_core.adapters import OrderSource, TrackingSink, WebhookResult
from fbs_core.domain import (
    IncomingOrder,
    OrderBatch,
    TrackingPush,
    TrackingResult,
    UnreadableOrder,
)
from fbs_core.domain.carriers import Carrier
from fbs_core.errors import RetriableError
from fbs_core.ratelimits import UNLIMITED, RateLimits

from .client import DEFAULT_POOL_SIZE, TRACKING_VERSION, NoRoute, WooClient
from .mapping import map_order, parse_gmt
from .webhooks import handle_delivery

PAID_STATUSES = ("processing",)
STOP_STATUSES = ("cancelled", "refunded")
TRACKING_META_KEY = "_fbs_tracking"
DEFAULT_ACK_NOTE = "Order received for fulfillment; it is being processed."
MAX_PAGES = 10_000


class WooCommerceOptions(BaseModel):
    """``[channels.<name>.options]`` for ``type = "woocommerce"``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    """The store's base URL, e.g. ``https://shop.example.com`` (http uses OAuth 1.0a)."""
    consumer_key: SecretStr
    """REST API consumer key (WooCommerce → Settings → Advanced → REST API), read/write."""
    consumer_secret: SecretStr
    """REST API consumer secret."""
    verify_ssl: bool = True
    """Verify the store's TLS certificate."""
    timeout: float = Field(default=10.0, gt=0, le=300)
    """Seconds to wait for the store on each call."""
    webhook_secret: SecretStr | None = None
    """The secret set on the store's order webhooks; fbs requires it when ``[server]
    enabled = true``, since without it every delivery is refused."""
    overlap_seconds: int = Field(default=300, ge=0, le=86_400)
    """Each poll re-reads orders modified this long before the cursor, so orders that share
    a timestamp or were saved while the last poll was paging are never missed."""
    per_page: int = Field(default=100, ge=1, le=100)
    """Orders per page (WooCommerce allows at most 100)."""
    max_order_bytes: int = Field(default=1_000_000, gt=0)
    """An order bigger than this as JSON is stored as unreadable instead of mapped."""
    tracking_provider_links: dict[str, str] = Field(default_factory=dict)
    """Carrier name → tracking link template (``%1$s`` = number) for carriers the Shipment
    Tracking extension does not know."""
    requests_per_second: float | None = Field(default=None, gt=0)
    """The store's host's request limit, if it has one (WooCommerce itself sets none): fbs
    keeps every process together under it. None: no limit."""
    burst: int = Field(default=1, ge=1)
    """Requests that may go at once after a quiet spell, with ``requests_per_second``."""
    max_concurrency: int | None = Field(default=None, ge=1)
    """Calls to the store in flight at once, across every fbs process. None: no cap."""


def store_identity_of(url: HttpUrl) -> str:
    """The store identity a WooCommerce site at ``url`` has (see ``store_identity``)."""
    host = (url.host or "").lower().rstrip(".")
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    port = f":{url.port}" if url.port is not None and url.port != default_port else ""
    path = (url.path or "").rstrip("/")
    return f"woocommerce:{host}{port}{path}"


EXTENSION_PROVIDERS: dict[Carrier, tuple[str, ...]] = {
    Carrier.ups: ("UPS",),
    Carrier.usps: ("USPS",),
    Carrier.fedex: ("Fedex",),
    Carrier.dhl: ("DHL US", "DHL"),
    Carrier.ontrac: ("OnTrac",),
}
"""The Shipment Tracking extension's provider names for the core's carrier codes."""


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _wc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class WooCommerceChannel(OrderSource, TrackingSink):
    """One WooCommerce store, as both the source of its orders and their tracking sink."""

    kind = "channel"

    def __init__(
        self, name: str, options: WooCommerceOptions, client: WooClient | None = None
    ) -> None:
        super().__init__(name, options)
        self.options: WooCommerceOptions = options
        self.client = client or WooClient(
            str(options.url),
            options.consumer_key.get_secret_value(),
            options.consumer_secret.get_secret_value(),
            timeout=options.timeout,
            verify_ssl=options.verify_ssl,
            pool_size=options.max_concurrency or DEFAULT_POOL_SIZE,
        )
        self._providers: dict[str, str] | None = None
        self._providers_lock = threading.Lock()

    # -- limits and connections ---------------------------------------------------------

    def rate_limits(self) -> RateLimits:
        """The limits the options declare (WooCommerce itself sets none)."""
        opts = self.options
        if opts.requests_per_second is None and opts.max_concurrency is None:
            return UNLIMITED
        return RateLimits(
            requests_per_second=opts.requests_per_second,
            burst=opts.burst,
            max_concurrency=opts.max_concurrency,
        )

    def rate_limit_key(self) -> str:
        """The store: two instances on one store share its limits."""
        return self.store_identity()

    def close(self) -> None:
        """Close the store's kept-alive connections."""
        self.client.close()

    # -- checks -------------------------------------------------------------------------

    def check(self) -> None:
        """Make one cheap authenticated call (list one order)."""
        self.client.get("orders", {"per_page": 1})

    def store_identity(self) -> str:
        """``woocommerce:<host>[:<port>]<path>``: the configured ``url``, normalized.

        No route is asked: the REST API lives under the site URL, so the URL the merchant
        configured is what names the store. Normalized so that spellings of one address
        name one store: the scheme (http or https), a default port, letter case of the
        host, and trailing slashes are left out; a store in a sub-folder keeps its path.
        """
        return store_identity_of(self.options.url)

    # -- intake -------------------------------------------------------------------------

    def fetch_orders(self, cursor: str | None) -> OrderBatch:
        """Return paid, cancelled and refunded orders modified since ``cursor``.

        The cursor is the greatest ``date_modified_gmt`` seen. Each poll asks for orders
        modified after ``cursor - overlap_seconds`` (the store's filter is exclusive and
        stamps are whole seconds), oldest first, through every page.
        """
        since = parse_gmt(cursor) if cursor else None
        params: dict[str, Any] = {
            "status": ",".join(PAID_STATUSES + STOP_STATUSES),
            "orderby": "date",
            "order": "asc",
            "per_page": self.options.per_page,
            "dates_are_gmt": "true",
        }
        if since is not None:
            params["modified_after"] = _wc_date(
                since - timedelta(seconds=self.options.overlap_seconds)
            )
        found: dict[str, IncomingOrder | UnreadableOrder] = {}
        newest = since
        first_total: int | None = None
        shrank = False
        page, pages = 1, 1
        while page <= pages and page <= MAX_PAGES:
            response = self.client.get("orders", {**params, "page": page})
            if not isinstance(response.data, list):
                raise RetriableError(
                    "WooCommerce returned something other than a list of orders",
                    code="malformed_response",
                )
            pages = _int_header(response.headers, "X-WP-TotalPages", default=1)
            total = _int_header(response.headers, "X-WP-Total", default=len(response.data))
            if first_total is None:
                first_total = total
            elif total < first_total:
                shrank = True
            for raw in response.data:
                mapped = map_order(raw, max_order_bytes=self.options.max_order_bytes)
                found[mapped.external_id] = mapped
                if mapped.updated_at and (newest is None or mapped.updated_at > newest):
                    newest = mapped.updated_at
            if not response.data:
                break
            page += 1
        if shrank:
            # An order left the result set while we paged, so a later page shifted and an
            # order may have been skipped: keep the old cursor and re-read next time.
            self.log.info("orders left the result set while paging; keeping the cursor")
            newest = since
        next_cursor = newest.isoformat() if newest is not None else cursor
        return OrderBatch(orders=tuple(found.values()), cursor=next_cursor)

    def acknowledge_order(self, external_id: str, message: str) -> None:
        """Add a private note saying the order is being processed, unless it is there."""
        text = message.strip() or DEFAULT_ACK_NOTE
        notes = self.client.get(f"orders/{external_id}/notes", {"type": "internal"}).data
        if any(isinstance(n, dict) and n.get("note") == text for n in notes or []):
            return
        self.client.post(f"orders/{external_id}/notes", {"note": text, "customer_note": False})

    # -- webhooks -----------------------------------------------------------------------

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        """Accept the activation ping; verify signed order events and ask for a poll."""
        secret = self.options.webhook_secret
        result = handle_delivery(headers, body, secret.get_secret_value() if secret else None)
        if result.status_code == 401:
            self.log.warning("refused a webhook delivery: %s", result.message)
        return result

    # -- tracking -----------------------------------------------------------------------

    def push_tracking(self, push: TrackingPush) -> TrackingResult:
        """Write one parcel's tracking to the order unless the number is already there.

        Uses the Shipment Tracking extension when the store has it, that is when the
        order's ``shipment-trackings`` list answers; otherwise a customer note plus an
        ``_fbs_tracking_<tracking number>`` order meta entry. What the order holds is read
        before each write, so a retry after an error whose write did happen finds it
        instead of adding it again. Marks the order completed only when
        ``push.completes_order``.
        """
        order_id = push.external_order_id
        try:
            result = self._push_with_extension(push)
        except NoRoute:
            self.log.info("no Shipment Tracking extension; writing tracking as a customer note")
            result = self._push_as_note(push)
        if push.completes_order:
            self._complete(order_id)
        return result

    def _push_with_extension(self, push: TrackingPush) -> TrackingResult:
        path = f"orders/{push.external_order_id}/shipment-trackings"
        items = self.client.get(path, api=TRACKING_VERSION).data or []
        for item in items:
            if isinstance(item, dict) and str(item.get("tracking_number")) == push.tracking_number:
                return TrackingResult(
                    reference=str(item.get("tracking_id", "")), already_present=True
                )
        body: dict[str, Any] = {
            "tracking_number": push.tracking_number,
            "date_shipped": push.shipped_at.astimezone(UTC).date().isoformat(),
        }
        carrier = push.shipping_carrier
        provider = self._known_provider(push.external_order_id, push.carrier, carrier.code)
        if provider:
            body["tracking_provider"] = provider
        else:
            body["custom_tracking_provider"] = carrier.name
            body["custom_tracking_link"] = (
                self.options.tracking_provider_links.get(push.carrier)
                or self.options.tracking_provider_links.get(carrier.name)
                or carrier.tracking_url
                or ""
            )
        created = self.client.post(path, body, api=TRACKING_VERSION).data or {}
        return TrackingResult(reference=str(created.get("tracking_id", "")))

    def _known_provider(self, order_id: str, carrier: str, code: Carrier) -> str | None:
        """Return the extension's own name for ``carrier``, or None if it has none.

        The carrier is looked up by the core's code first (a warehouse's "UPS Ground" is
        the extension's "UPS", "FedEx" its "Fedex"), then by the warehouse's own words.
        The extension lists its providers only under an order
        (``orders/<order_id>/shipment-trackings/providers``); the list is the store's, so
        it is read once. A store that has no such route gets every carrier as a custom
        provider.
        """
        with self._providers_lock:
            if self._providers is None:
                try:
                    regions = self.client.get(
                        f"orders/{order_id}/shipment-trackings/providers", api=TRACKING_VERSION
                    ).data
                except NoRoute:
                    self.log.info("the store lists no tracking providers; using custom ones")
                    regions = {}
                names: dict[str, str] = {}
                for region in (regions or {}).values() if isinstance(regions, dict) else ():
                    if isinstance(region, dict):
                        names.update({_slug(n): n for n in region})
                self._providers = names
            for name in EXTENSION_PROVIDERS.get(code, ()):
                if _slug(name) in self._providers:
                    return self._providers[_slug(name)]
            return self._providers.get(_slug(carrier))

    def _push_as_note(self, push: TrackingPush) -> TrackingResult:
        """Write a customer note, then the parcel's own ``_fbs_tracking_<number>`` meta entry.

        Each parcel has its own meta key, so two parcels of one order written at once (two
        workers, two processes) never overwrite each other's entry; a note written before
        a crash is found by its text and not written again.
        """
        order_id = push.external_order_id
        key = tracking_meta_key(push.tracking_number)
        order = self.client.get(f"orders/{order_id}").data or {}
        for meta in order.get("meta_data") or []:
            if not isinstance(meta, dict):
                continue
            value = meta.get("value")
            if meta.get("key") == key and isinstance(value, dict):
                return TrackingResult(
                    reference=str(value.get("note_id") or ""), already_present=True
                )
        text = tracking_note(push)
        notes = self.client.get(f"orders/{order_id}/notes", {"type": "customer"}).data or []
        existing = [n for n in notes if isinstance(n, dict) and n.get("note") == text]
        if existing:
            note_id = existing[0].get("id")
        else:
            note = (
                self.client.post(
                    f"orders/{order_id}/notes", {"note": text, "customer_note": True}
                ).data
                or {}
            )
            note_id = note.get("id")
        entry = {
            "carrier": push.carrier,
            "tracking_number": push.tracking_number,
            "shipped_at": push.shipped_at.astimezone(UTC).isoformat(),
            "idempotency_key": push.idempotency_key,
            "note_id": note_id,
        }
        self.client.put(f"orders/{order_id}", {"meta_data": [{"key": key, "value": entry}]})
        return TrackingResult(reference=str(note_id or ""), already_present=bool(existing))

    def _complete(self, order_id: str) -> None:
        order = self.client.get(f"orders/{order_id}").data or {}
        status = order.get("status")
        if status == "completed":
            return
        if status in STOP_STATUSES or status == "trash":
            self.log.warning(
                "order %s is %s on the store; not marking it completed", order_id, status
            )
            return
        self.client.put(f"orders/{order_id}", {"status": "completed"})


def tracking_meta_key(tracking_number: str) -> str:
    """The order meta key holding one parcel's tracking when the store has no extension."""
    return f"{TRACKING_META_KEY}_{tracking_number}"


def tracking_note(push: TrackingPush) -> str:
    """The customer note written when the store has no Shipment Tracking extension."""
    text = f"Your order has shipped with {push.carrier}, tracking number {push.tracking_number}."
    if push.tracking_url:
        text += f" Track it at {push.tracking_url}"
    return text


def _int_header(headers: Mapping[str, str], name: str, *, default: int) -> int:
    value = headers.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise RetriableError(
            f"WooCommerce sent a non-numeric {name} header", code="malformed_response"
        ) from None
