"""The eBay REST calls against the behavioural contract checks.

A server answering every call with one failure stands in for the Sell Fulfillment API;
the OAuth token comes from the imitation, so each check is about the API's answer:
5xx and timeouts retriable, 429 retriable after ``Retry-After``, 401/403 an AuthError
(after one token refresh), other 4xx fatal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from fbs_channel_ebay.ebay_channel import EbayChannel
from fbs_channel_ebay.ebay_options import EbayOptions
from fbs_core.adapters import Adapter, OrderSource
from fbs_core.testing.behaviour import HttpFailureContract
from fbs_sandbox.ebay import EbayImitation
from fbs_sandbox.serving import RunningServer, serve

from .conftest import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN


@pytest.fixture(scope="module")
def token_server() -> Iterator[RunningServer]:
    running = serve(EbayImitation(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN).app)
    yield running
    running.stop()


class TestEbayFailures(HttpFailureContract):
    @pytest.fixture(autouse=True)
    def _token_server(self, token_server: RunningServer) -> None:
        self.token_url = f"{token_server.url}/identity/v1/oauth2/token"

    def build_against(self, base_url: str) -> Adapter:
        options = EbayOptions(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            refresh_token=REFRESH_TOKEN,
            seller_id="seller",
            api_url=base_url,
            token_url=getattr(self, "token_url", f"{base_url}/identity/v1/oauth2/token"),
            timeout=self.timeout_seconds,
        )
        return EbayChannel("ebay-shop", options)

    def exercise(self, adapter: Adapter) -> None:
        assert isinstance(adapter, OrderSource)
        adapter.fetch_orders(None)

    def error_body(self, status: int) -> bytes:
        # the error container of the Sell APIs (schema Error in the official document)
        return json.dumps(
            {"errors": [{"errorId": 30500, "domain": "API_FULFILLMENT", "category": "REQUEST",
                         "message": "refused", "longMessage": "the server says no"}]}
        ).encode()  # fmt: skip
