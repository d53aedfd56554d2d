"""Shopify webhook deliveries, verified before anything is read.

Specified here:

* an order topic signed with the app's secret asks for a poll; a repeat of the same
  ``X-Shopify-Webhook-Id`` does not; a forged, unsigned or other-shop delivery is 401;
* without a configured ``webhook_secret`` every delivery is refused;
* the app-level endpoint turns ``customers/redact`` into an erasure of the named orders
  and the buyer's e-mail, ``shop/redact`` into an erasure of the whole store and
  ``customers/data_request`` into a report, each for the shop the delivery names; it is
  401 unless signed by the app of a configured instance of that shop;
* ``fbs channels subscribe`` creates the subscriptions once and reports what it did.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from fbs_channel_shopify.shopify_webhooks import app_webhook, signature
from fbs_core.adapters import WebhookRequest
from fbs_core.cli import main
from fbs_core.domain.privacy import PrivacyAction

from .conftest import HOOK_SECRET, SHOP, TOKEN


def headers(body: bytes, topic: str, secret: str = HOOK_SECRET, **extra: str) -> dict[str, str]:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": signature(secret, body),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Webhook-Id": extra.pop("webhook_id", "delivery-1"),
        **extra,
    }


def test_a_signed_order_delivery_polls_once_per_webhook_id(channel):
    body = b'{"id": 1001}'

    first = channel.handle_webhook(headers(body, "orders/paid"), body)
    repeat = channel.handle_webhook(headers(body, "orders/paid"), body)
    other = channel.handle_webhook(headers(body, "orders/cancelled", webhook_id="delivery-2"), body)

    assert (first.status_code, first.poll_now) == (200, True)
    assert (repeat.status_code, repeat.poll_now) == (200, False)
    assert other.poll_now


def test_forged_unsigned_and_other_shop_deliveries_are_refused(channel):
    body = b'{"id": 1001}'
    forged = headers(body, "orders/paid", secret="guess")
    unsigned = {k: v for k, v in headers(body, "orders/paid").items() if "Hmac" not in k}
    elsewhere = headers(body, "orders/paid", **{"X-Shopify-Shop-Domain": "other.myshopify.com"})

    for given in (forged, unsigned, elsewhere):
        result = channel.handle_webhook(given, body)
        assert (result.status_code, result.poll_now) == (401, False)


def test_without_a_webhook_secret_every_delivery_is_refused(make_channel):
    channel = make_channel(webhook_secret=None)
    body = b"{}"

    assert channel.handle_webhook(headers(body, "orders/paid"), body).status_code == 401


def deliver(channel, topic, payload, secret=HOOK_SECRET):
    body = json.dumps(payload).encode()
    request = WebhookRequest(method="POST", headers=headers(body, topic, secret), body=body)
    return app_webhook(request, {"shop": channel})


def test_customers_redact_erases_the_named_orders_and_the_buyer(channel):
    result = deliver(
        channel,
        "customers/redact",
        {
            "shop_domain": SHOP,
            "customer": {"email": "pat@example.com"},
            "orders_to_redact": [1001, 1002],
        },
    )

    [request] = result.privacy
    assert result.status_code == 200
    assert request.action is PrivacyAction.erase
    assert request.store_identity == f"shopify:{SHOP}"
    assert (request.external_ids, request.email) == (("1001", "1002"), "pat@example.com")


def test_shop_redact_erases_the_store_and_data_request_reports(channel):
    shop = deliver(channel, "shop/redact", {"shop_domain": SHOP}).privacy[0]
    report = deliver(
        channel,
        "customers/data_request",
        {"shop_domain": SHOP, "customer": {"email": "pat@example.com"}, "orders_requested": [7]},
    ).privacy[0]

    assert (shop.action, shop.whole_store) == (PrivacyAction.erase, True)
    assert (report.action, report.external_ids) == (PrivacyAction.report, ("7",))


def test_a_forged_privacy_delivery_is_refused_and_asks_nothing(channel):
    result = deliver(channel, "shop/redact", {"shop_domain": SHOP}, secret="guess")

    assert (result.status_code, result.privacy) == (401, ())


def test_fbs_channels_subscribe_creates_the_subscriptions_once(shop, tmp_path, monkeypatch):
    config = tmp_path / "fbs.toml"
    config.write_text(
        f"""
database_url = "sqlite:///{tmp_path / "fbs.db"}"
[channels.my-shop]
type = "shopify"
[channels.my-shop.options]
shop = "{SHOP}"
access_token = {{ env = "SHOPIFY_TOKEN" }}
location = "Drop-ship warehouse"
api_base_url = "{shop.url}"
"""
    )
    monkeypatch.setenv("SHOPIFY_TOKEN", TOKEN)
    runner = CliRunner()
    args = ["--config", str(config), "channels", "subscribe", "my-shop", "--url",
            "https://fbs.example.com/webhooks/my-shop"]  # fmt: skip

    first = runner.invoke(main, args)
    second = runner.invoke(main, args)

    assert first.exit_code == 0, first.output
    assert "ORDERS_PAID: created" in first.output
    assert "ORDERS_PAID: exists" in second.output
    assert len(shop.shop.subscriptions) == 3
    refused = runner.invoke(main, [*args[:-1], "http://insecure.example.com"])
    assert refused.exit_code == 2 and "https://" in refused.output


def test_fbs_check_lists_the_shops_locations_when_location_is_wrong(shop, tmp_path, monkeypatch):
    config = tmp_path / "fbs.toml"
    config.write_text(
        f"""
database_url = "sqlite:///{tmp_path / "fbs.db"}"
[channels.my-shop]
type = "shopify"
[channels.my-shop.options]
shop = "{SHOP}"
access_token = {{ env = "SHOPIFY_TOKEN" }}
location = "Back room"
api_base_url = "{shop.url}"
"""
    )
    monkeypatch.setenv("SHOPIFY_TOKEN", TOKEN)
    monkeypatch.setenv("COLUMNS", "400")

    result = CliRunner().invoke(main, ["--config", str(config), "check"])

    assert result.exit_code in (1, 2), result.output
    text = " ".join(result.output.split())
    assert "location 'Back room' is not one of the shop's locations" in text
    assert "'Drop-ship warehouse' (id 1001)" in text and "'Shop floor' (id 1002)" in text
