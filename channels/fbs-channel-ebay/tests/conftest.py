"""Fixtures: the eBay imitation served on loopback and an eBay channel pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fbs_channel_ebay.ebay_channel import EbayChannel
from fbs_channel_ebay.ebay_options import EbayOptions
from fbs_sandbox.ebay import EbayImitation
from fbs_sandbox.serving import RunningServer, serve

CLIENT_ID, CLIENT_SECRET = "fbs-app-PRD-0123456789ab", "PRD-secret-0123456789abcdef"
REFRESH_TOKEN = "v^1.1#i^1#r^1#refresh-token-for-tests"
VERIFICATION_TOKEN = "fbs_verification_token_0123456789_abcdef"
AUSTIN = {
    "fullName": "Pat Buyer",
    "contactAddress": {
        "addressLine1": "100 Congress Ave",
        "city": "Austin",
        "stateOrProvince": "TX",
        "postalCode": "78701",
        "countryCode": "US",
    },
    "primaryPhone": {"phoneNumber": "5125550100"},
    "email": "pat@example.com",
}


def channel_options(url: str, **extra: Any) -> dict[str, Any]:
    """Options pointing the plugin at an imitation served at ``url``."""
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "api_url": f"{url}/sell/fulfillment/v1",
        "token_url": f"{url}/identity/v1/oauth2/token",
        "notification_url": f"{url}/commerce/notification/v1",
        **extra,
    }


@pytest.fixture
def imitation() -> EbayImitation:
    return EbayImitation(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN)


@pytest.fixture
def server(imitation: EbayImitation) -> Iterator[RunningServer]:
    running = serve(imitation.app)
    yield running
    running.stop()


@pytest.fixture
def make_channel(server: RunningServer) -> Iterator[Callable[..., EbayChannel]]:
    made: list[EbayChannel] = []

    def make(**extra: Any) -> EbayChannel:
        channel = EbayChannel("ebay-shop", EbayOptions(**channel_options(server.url, **extra)))
        made.append(channel)
        return channel

    yield make
    for channel in made:
        channel.close()


@pytest.fixture
def channel(make_channel: Callable[..., EbayChannel]) -> EbayChannel:
    return make_channel()


def line(sku: str | None, quantity: int = 1, price: str = "10.00", **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"quantity": quantity, "price": price, "title": f"Part {sku}", **extra}
    if sku is not None:
        found["sku"] = sku
    return found
