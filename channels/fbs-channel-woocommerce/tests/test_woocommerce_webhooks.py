"""Webhook deliveries: signature checks, the activation ping, and the core's endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from fbs_core.server import WebhookServer, create_webhook_app

SECRET = "whsec-test-2b91"  # the channel fixture's webhook_secret


def signed(body: bytes, topic: str = "order.updated", secret: str = SECRET) -> dict[str, str]:
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": signature.decode()}


BODY = b'{"id":1001,"status":"processing"}'


@pytest.mark.parametrize(
    "topic", ["order.created", "order.updated", "order.deleted", "order.restored"]
)
def test_a_signed_order_event_asks_for_a_poll(channel, topic):
    result = channel.handle_webhook(signed(BODY, topic), BODY)

    assert (result.status_code, result.poll_now) == (200, True)


def test_header_names_are_case_insensitive(channel):
    headers = {k.lower(): v for k, v in signed(BODY).items()}

    assert channel.handle_webhook(headers, BODY).poll_now is True


def test_a_signed_event_of_another_topic_is_acknowledged_without_a_poll(channel):
    result = channel.handle_webhook(signed(BODY, "product.updated"), BODY)

    assert (result.status_code, result.poll_now) == (200, False)


@pytest.mark.parametrize(
    "headers",
    [
        signed(BODY, secret="someone-elses-secret"),
        signed(BODY + b" "),  # signature of a different body
        {"X-WC-Webhook-Topic": "order.updated"},  # no signature at all
    ],
    ids=["wrong-secret", "tampered-body", "unsigned"],
)
def test_a_bad_or_missing_signature_is_refused(channel, headers):
    result = channel.handle_webhook(headers, BODY)

    assert (result.status_code, result.poll_now) == (401, False)


def test_without_a_configured_secret_every_signed_delivery_is_refused(make_channel):
    channel = make_channel(webhook_secret=None)

    assert channel.handle_webhook(signed(BODY), BODY).status_code == 401


def test_the_unsigned_activation_ping_is_accepted(channel):
    result = channel.handle_webhook(
        {"Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=17"
    )

    assert (result.status_code, result.poll_now) == (200, False)


@pytest.fixture
def webhook_server(channel):
    polls: list[str] = []
    app = create_webhook_app({"shop": channel}, polls.append)
    running = WebhookServer(app, "127.0.0.1", 0).start()
    yield running, polls
    running.stop()


def test_end_to_end_a_store_delivery_triggers_a_poll(store, us_address, webhook_server):
    running, polls = webhook_server
    order = store.add_order(lines=[{"sku": "A", "quantity": 1, "price": "5"}], shipping=us_address)
    url = f"{running.url}/webhooks/shop"

    assert store.send_ping(url).status_code == 200
    assert polls == []
    bad = store.send_webhook(url, topic="order.updated", order_id=order["id"], secret="nope")
    assert bad.status_code == 401
    assert polls == []
    good = store.send_webhook(url, topic="order.created", order_id=order["id"], secret=SECRET)
    assert good.status_code == 200
    assert polls == ["shop"]
