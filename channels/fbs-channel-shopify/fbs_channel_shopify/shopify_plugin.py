"""Hook implementations (the ``fbs`` entry point target)."""

from __future__ import annotations

from collections.abc import Iterator

import fbs_core
from fbs_core.types import OrderSourceType

from .shopify_channel import ShopifyChannel
from .shopify_options import ShopifyOptions
from .shopify_webhooks import app_webhook


@fbs_core.hookimpl
def fbs_order_sources() -> Iterator[OrderSourceType]:
    """Register the ``shopify`` channel type (also the tracking sink for its orders)."""
    yield OrderSourceType(
        name="shopify",
        description="Shopify shop via the Admin GraphQL API (orders, fulfillment orders, webhooks)",
        options_model=ShopifyOptions,
        factory=ShopifyChannel,
        app_webhook=app_webhook,
    )
