"""Hook implementations (the ``fbs`` entry point target)."""

from __future__ import annotations

from collections.abc import Iterator

import fbs_core
from fbs_core.types import OrderSourceType

from .ebay_channel import EbayChannel
from .ebay_options import EbayApi, EbayOptions
from .ebay_trading import EbayTradingChannel
from .ebay_webhooks import handle_app_webhook


def make_channel(name: str, options: EbayOptions) -> EbayChannel:
    """The channel for the configured mode: Sell Fulfillment (REST) or Trading (XML)."""
    if options.api is EbayApi.trading:
        return EbayTradingChannel(name, options)
    return EbayChannel(name, options)


@fbs_core.hookimpl
def fbs_order_sources() -> Iterator[OrderSourceType]:
    """Register the ``ebay`` channel type (also the tracking sink for its orders)."""
    yield OrderSourceType(
        name="ebay",
        description="eBay seller account via the Sell Fulfillment or Trading API (orders, tracking)",
        options_model=EbayOptions,
        factory=make_channel,
        app_webhook=handle_app_webhook,
    )
