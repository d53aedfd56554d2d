"""Shopify webhook deliveries: order topics per shop, privacy topics for the app.

Every HTTPS delivery carries ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(the app's
client secret, raw body)); it is compared in constant time with the raw bytes before
anything is parsed. A forged or unsigned delivery gets 401 and changes nothing.

Shopify delivers at least once and may repeat a delivery; ``X-Shopify-Webhook-Id`` names
it. Recent ids are kept **in memory**, in a bounded most-recent set per instance
(:data:`RECENT_DELIVERIES`): a repeat only asks for a poll that the cursor makes
harmless anyway, so remembering them across restarts is not worth a write per delivery.
A repeated privacy delivery is carried out again, which is harmless too (erasing twice
changes nothing the second time).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from fbs_core.adapters import WebhookRequest, WebhookResult
from fbs_core.domain.privacy import PrivacyAction, PrivacyRequest

ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/paid",
        "orders/updated",
        "orders/edited",
        "orders/cancelled",
        "fulfillment_orders/order_routing_complete",
    }
)
"""Topics that mean an order changed: the shop is polled at once."""
SUBSCRIBED_TOPICS = ("ORDERS_PAID", "ORDERS_UPDATED", "ORDERS_CANCELLED")
"""What ``subscribe`` creates (``WebhookSubscriptionTopic`` values)."""
PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})
RECENT_DELIVERIES = 4096
"""Webhook ids remembered per instance to drop repeats."""


def signature(secret: str, body: bytes) -> str:
    """The ``X-Shopify-Hmac-Sha256`` Shopify sends for ``body``."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verified(secret: str | None, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether the delivery is signed with ``secret`` (constant-time comparison)."""
    given = headers.get("x-shopify-hmac-sha256", "").strip()
    if not secret or not given:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), given.encode())


class RecentDeliveries:
    """A bounded, thread-safe set of the latest delivery ids."""

    def __init__(self, size: int = RECENT_DELIVERIES) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def seen(self, delivery_id: str) -> bool:
        """Record ``delivery_id``; True if it was already there."""
        with self._lock:
            if delivery_id in self._ids:
                self._ids.move_to_end(delivery_id)
                return True
            self._ids[delivery_id] = None
            while len(self._ids) > self._size:
                self._ids.popitem(last=False)
            return False


def lowered(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers with lower-cased names."""
    return {k.lower(): v for k, v in headers.items()}


def privacy_request(topic: str, body: bytes, store_identity: str) -> PrivacyRequest | None:
    """The privacy request a verified compliance delivery makes (None if unreadable)."""
    try:
        payload: Any = json.loads(body or b"null")
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    email = customer.get("email") if isinstance(customer.get("email"), str) else None
    origin = f"shopify {topic}"
    if topic == "shop/redact":
        return PrivacyRequest(PrivacyAction.erase, store_identity, whole_store=True, origin=origin)
    key = "orders_to_redact" if topic == "customers/redact" else "orders_requested"
    ids = tuple(str(i) for i in _ids(payload.get(key)))
    action = PrivacyAction.erase if topic == "customers/redact" else PrivacyAction.report
    return PrivacyRequest(action, store_identity, external_ids=ids, email=email, origin=origin)


def _ids(values: Any) -> Iterable[Any]:
    if not isinstance(values, list):
        return ()
    return (v for v in values if isinstance(v, int | str) and not isinstance(v, bool))


def app_webhook(request: WebhookRequest, instances: Mapping[str, Any]) -> WebhookResult:
    """The app-level endpoint (``/app-webhooks/shopify``): the mandatory privacy topics.

    The delivery names its shop (``X-Shopify-Shop-Domain``); it must be signed with the
    ``webhook_secret`` of an instance configured for that shop, else 401.
    """
    if request.method != "POST":
        return WebhookResult(
            status_code=405, message="webhooks are POSTed", headers={"allow": "POST"}
        )
    headers = lowered(request.headers)
    shop = headers.get("x-shopify-shop-domain", "").strip().lower()
    topic = headers.get("x-shopify-topic", "").strip().lower()
    mine = [
        channel
        for channel in instances.values()
        if getattr(channel.options, "shop", None) == shop
        and verified(_secret(channel), headers, request.body)
    ]
    if not mine:
        return WebhookResult(status_code=401, message="not signed by a configured shop's app")
    channel = mine[0]
    if topic not in PRIVACY_TOPICS:
        return channel.handle_webhook(headers, request.body)
    privacy = privacy_request(topic, request.body, channel.store_identity())
    if privacy is None:
        return WebhookResult(status_code=400, message=f"{topic}: the body is not a JSON object")
    return WebhookResult(status_code=200, message=f"{topic}: carried out", privacy=(privacy,))


def _secret(channel: Any) -> str | None:
    secret = getattr(channel.options, "webhook_secret", None)
    return secret.get_secret_value() if secret is not None else None
