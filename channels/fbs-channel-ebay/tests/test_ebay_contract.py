"""The eBay plugin against the plugin contract kit: entry point, registration, options,
a factory that makes no connection, no secret in any repr, a stable ``ebay:`` identity."""

import fbs_channel_ebay.ebay_plugin
from fbs_channel_ebay.ebay_channel import EbayChannel
from fbs_channel_ebay.ebay_trading import EbayTradingChannel
from fbs_core.adapters import TrackingSink
from fbs_core.testing.contracts import OrderSourceContract


class TestEbayChannel(OrderSourceContract):
    plugin = fbs_channel_ebay.ebay_plugin
    type_name = "ebay"
    sample_options = {
        "client_id": "fbs-contract-PRD-0123456789",
        "client_secret": "PRD-contract-secret-value",
        "refresh_token": "v^1.1#i^1#r^1#contract-refresh-token",
        "seller_id": "contract_seller",
        "verification_token": "contract_verification_token_0123456789",
        "endpoint_url": "https://fbs.example.test/app-webhooks/ebay",
    }


class TestEbayTradingChannel(OrderSourceContract):
    plugin = fbs_channel_ebay.ebay_plugin
    type_name = "ebay"
    sample_options = {
        "api": "trading",
        "client_id": "fbs-contract-PRD-0123456789",
        "client_secret": "PRD-contract-secret-value",
        "auth_token": "AgAAAA**contract-auth-token",
        "dev_id": "contract-dev-id-value",
        "seller_id": "contract_seller",
    }


def test_both_modes_are_also_the_tracking_sink_for_their_orders():
    assert issubclass(EbayChannel, TrackingSink)
    assert issubclass(EbayTradingChannel, TrackingSink)
