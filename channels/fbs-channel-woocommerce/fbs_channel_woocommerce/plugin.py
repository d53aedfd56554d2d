"""Hook implementations (the ``fbs`` entry point target)."""

from __future__ import annotations

from collections.abc import Iterator

import fbs_core
from fbs_core.types import OrderSourceType

from .channel import WooCommerceChannel, WooCommerceOptions


@fbs_core.hookimpl
def fbs_order_sources() -> Iterator[OrderSourceType]:
    """Register the ``woocommerce`` channel type (also the tracking sink for its orders)."""
    yield OrderSourceType(
        name="woocommerce",
        description="WooCommerce store via REST API v3 (orders, notes, Shipment Tracking)",
        options_model=WooCommerceOptions,
        factory=WooCommerceChannel,
    )
