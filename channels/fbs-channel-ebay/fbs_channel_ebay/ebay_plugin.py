"""Hook implementations (the ``fbs`` entry point target)."""

from __future__ import annotations

from collections.abc import Iterator

import fbs_core
from fbs_core.types import OrderSourceType

from .ebay_channel import EbayChannel
from .ebay_options import EbayOptions
from .ebay_webhooks import handle_app_webhook


@fbs_core.hookimpl
def fbs_order_sources() -> Iterator[OrderSourceType]:
    """Register the ``ebay`` channel type (also the tracking sink for its orders)."""
    yield OrderSourceType(
        name="ebay",
        description="eBay seller account via the Sell Fulfillment API (orders, tracking)",
        options_model=EbayOptions,
        factory=EbayChannel,
        app_webhook=handle_app_webhook,
    )
