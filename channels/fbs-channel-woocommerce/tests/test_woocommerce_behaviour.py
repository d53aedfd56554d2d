"""The WooCommerce channel against the behavioural contract checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from fbs_channel_woocommerce.channel import WooCommerceChannel, WooCommerceOptions
from fbs_core.adapters import Adapter, OrderSource
from fbs_core.testing.behaviour import HttpFailureContract, WebhookSignatureContract

KEY = "ck_5f2c0a9e1d"
SECRET = "cs_8b1e77d0c4"
WEBHOOK_SECRET = "whsec-test-2b91"


def _channel(url: str, timeout: float = 10.0) -> WooCommerceChannel:
    options = WooCommerceOptions.model_validate(
        {
            "url": url,
            "consumer_key": KEY,
            "consumer_secret": SECRET,
            "timeout": timeout,
            "webhook_secret": WEBHOOK_SECRET,
        }
    )
    return WooCommerceChannel("shop", options)


class TestWooCommerceFailures(HttpFailureContract):
    def build_against(self, base_url: str) -> Adapter:
        return _channel(base_url, timeout=self.timeout_seconds)

    def exercise(self, adapter: Adapter) -> None:
        assert isinstance(adapter, OrderSource)
        adapter.fetch_orders(None)

    def error_body(self, status: int) -> bytes:
        # the WP REST API error shape the WooCommerce REST docs show
        code = {401: "woocommerce_rest_cannot_view", 404: "rest_no_route"}.get(
            status, "woocommerce_rest_invalid"
        )
        return json.dumps({"code": code, "message": "refused", "data": {"status": status}}).encode()


class TestWooCommerceWebhookSignatures(WebhookSignatureContract):
    def channel(self) -> OrderSource:
        return _channel("http://127.0.0.1:9")

    def signed_delivery(self) -> tuple[dict[str, str], bytes]:
        body = b'{"id":1001,"status":"processing"}'
        digest = hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).digest()
        return {
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": base64.b64encode(digest).decode(),
        }, body
