from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fbs_channel_shopify.shopify_channel import ShopifyChannel
from fbs_channel_shopify.shopify_options import ShopifyOptions
from fbs_core.testing.specs import spec_file

TOKEN, HOOK_SECRET, SHOP = "shpat_test", "shpss_test_secret", "fbs-test.myshopify.com"
AUSTIN = {
    "first_name": "Pat",
    "last_name": "Buyer",
    "address_1": "100 Congress Ave",
    "city": "Austin",
    "state": "TX",
    "postcode": "78701",
    "country": "US",
}


@pytest.fixture
def shop() -> Iterator[Any]:
    spec_file("shopify/admin_2026-10.json.gz")
    from fbs_sandbox.serving import serve
    from fbs_sandbox.shopify import ShopifyImitation

    imitation = ShopifyImitation(TOKEN, shop=SHOP)
    server = serve(imitation.app)
    imitation.url = server.url
    yield imitation
    server.stop()


@pytest.fixture
def make_channel(shop) -> Iterator[Callable[..., ShopifyChannel]]:
    built: list[ShopifyChannel] = []

    def build(**options: Any) -> ShopifyChannel:
        values = {
            "shop": SHOP,
            "access_token": TOKEN,
            "webhook_secret": HOOK_SECRET,
            "location": "Drop-ship warehouse",
            "api_base_url": shop.url,
            **options,
        }
        channel = ShopifyChannel("shopify-shop", ShopifyOptions.model_validate(values))
        built.append(channel)
        return channel

    yield build
    for channel in built:
        channel.close()


@pytest.fixture
def channel(make_channel) -> ShopifyChannel:
    return make_channel()
