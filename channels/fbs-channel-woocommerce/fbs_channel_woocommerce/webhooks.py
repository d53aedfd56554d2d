"""WooCommerce webhook deliveries: the unsigned ping and signed order events.

WooCommerce signs each delivery with ``X-WC-Webhook-Signature`` =
base64(HMAC-SHA256(webhook secret, raw body)) (``WC_Webhook::generate_signature``). When a
webhook is saved it first POSTs an unsigned, form-encoded ``webhook_id=<n>`` ping that must
be answered 200 or the webhook is never activated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping

from fbs_core.adapters import WebhookResult

ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.deleted", "order.restored"})
_PING = re.compile(rb"webhook_id=\d+")


def expected_signature(secret: str, body: bytes) -> str:
    """Return the signature WooCommerce sends for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """True for the activation ping: no signature and a ``webhook_id=<n>`` form body."""
    return "x-wc-webhook-signature" not in headers and bool(_PING.fullmatch(body.strip()))


def handle_delivery(headers: Mapping[str, str], body: bytes, secret: str | None) -> WebhookResult:
    """Verify one delivery and say whether the core should poll the store now.

    A missing or wrong signature, or no configured secret, is refused with 401 and nothing
    else happens. A verified order topic asks for an immediate poll; other verified topics
    are acknowledged and ignored.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    if is_ping(lowered, body):
        return WebhookResult(status_code=200, message="webhook ping accepted")
    given = lowered.get("x-wc-webhook-signature")
    if not secret:
        return WebhookResult(status_code=401, message="no webhook_secret is configured")
    if not given:
        return WebhookResult(status_code=401, message="missing X-WC-Webhook-Signature")
    if not hmac.compare_digest(expected_signature(secret, body).encode(), given.strip().encode()):
        return WebhookResult(status_code=401, message="bad X-WC-Webhook-Signature")
    topic = lowered.get("x-wc-webhook-topic", "").strip().lower()
    if topic in ORDER_TOPICS:
        return WebhookResult(status_code=200, poll_now=True, message=f"{topic}: polling now")
    return WebhookResult(status_code=200, message=f"{topic or 'no topic'}: ignored")
