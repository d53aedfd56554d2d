"""Webhook deliveries and pings, signed and shaped as WooCommerce sends them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from typing import Any

import httpx


def webhook_signature(secret: str, body: bytes) -> str:
    """``X-WC-Webhook-Signature``: base64(HMAC-SHA256(secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class _Webhooks:
    """Sends deliveries about the store's orders to a URL."""

    site_url: str
    _lock: threading.RLock
    _orders: dict[int, dict[str, Any]]

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
