"""Fixtures: the WooCommerce imitation served on 127.0.0.1, a channel pointed at it, and the
JSON examples of the official REST docs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fbs_channel_woocommerce.channel import WooCommerceChannel, WooCommerceOptions
from fbs_sandbox.docs import woocommerce_orders_example
from fbs_sandbox.serving import RunningServer, serve
from fbs_sandbox.woocommerce import WooCommerceImitation

KEY = "ck_5f2c0a9e1d"
SECRET = "cs_8b1e77d0c4"
WEBHOOK_SECRET = "whsec-test-2b91"

US_ADDRESS = {
    "first_name": "Dana",
    "last_name": "Reyes",
    "address_1": "1200 Elm St",
    "city": "Austin",
    "state": "TX",
    "postcode": "78701",
    "country": "US",
}
BILLING = {**US_ADDRESS, "email": "dana@example.com", "phone": "512-555-0101"}


@pytest.fixture
def retrieve_example() -> dict[str, Any]:
    return woocommerce_orders_example("Retrieve an order")


@pytest.fixture
def list_example() -> list[dict[str, Any]]:
    return woocommerce_orders_example("List all orders")


@pytest.fixture
def store() -> WooCommerceImitation:
    return WooCommerceImitation(KEY, SECRET)


@pytest.fixture
def server(store: WooCommerceImitation) -> Iterator[RunningServer]:
    running = serve(store.app)
    yield running
    running.stop()


@pytest.fixture
def make_channel(server: RunningServer) -> Callable[..., WooCommerceChannel]:
    def make(**overrides: Any) -> WooCommerceChannel:
        options = WooCommerceOptions.model_validate(
            {
                "url": server.url,
                "consumer_key": KEY,
                "consumer_secret": SECRET,
                "webhook_secret": WEBHOOK_SECRET,
                "timeout": 5,
                **overrides,
            }
        )
        return WooCommerceChannel("shop", options)

    return make


@pytest.fixture
def channel(make_channel: Callable[..., WooCommerceChannel]) -> WooCommerceChannel:
    return make_channel()


@pytest.fixture
def us_address() -> dict[str, str]:
    return dict(US_ADDRESS)


@pytest.fixture
def billing() -> dict[str, str]:
    return dict(BILLING)
