"""The stores ``fbs demo`` can sell on: each channel's imitation behind one small protocol.

A demo store is a channel's imitation seen from the demo: the ASGI app to serve, the
options that point the real channel plugin at it, a way to put a paid order on it, and
what it saw the plugin do. ``fbs demo --channel shopify --channel woocommerce`` runs one
store of each, with the planned orders dealt out between them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol

from .demo_data import PlannedOrder
from .woocommerce import WooCommerceImitation

# Throwaway test credentials of the local imitation; they open nothing real.
WOO_KEY = "ck_demo_0123456789abcdef0123456789abcdef"
WOO_SECRET = "cs_demo_fedcba9876543210fedcba9876543210"


class DemoStore(Protocol):
    """A store imitation the demo places orders on and reads the plugin's effects from."""

    channel_type: str
    """The fbs channel type whose real plugin talks to this store."""
    app: Any
    """The ASGI app the demo serves on a free 127.0.0.1 port."""

    def channel_options(self, base_url: str) -> dict[str, Any]:
        """The ``[channels.<name>.options]`` table pointing the plugin at ``base_url``."""
        ...

    def place_order(self, order: PlannedOrder) -> str:
        """Put ``order`` on the store as paid; return the external id fbs will store."""
        ...

    def tracking_pushes(self) -> int:
        """Tracking entries the store received."""
        ...

    def completed_orders(self) -> int:
        """Orders the store now shows as wholly fulfilled."""
        ...

    def duplicate_effects(self) -> int:
        """Effects the store saw twice (the demo requires none)."""
        ...


class WooCommerceDemoStore:
    """The WooCommerce imitation, with the Shipment Tracking extension installed."""

    channel_type = "woocommerce"

    def __init__(self) -> None:
        self.store = WooCommerceImitation(WOO_KEY, WOO_SECRET, shipment_tracking=True)
        self.app = self.store.app

    def channel_options(self, base_url: str) -> dict[str, Any]:  # noqa: D102
        return {"url": base_url, "consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET}

    def place_order(self, order: PlannedOrder) -> str:  # noqa: D102
        created = self.store.add_order(
            lines=order.woo_lines(),
            shipping=order.shipping,
            billing=order.billing,
            status="processing",
            shipping_total=order.shipping_total(),
            total_tax=order.tax_total(),
        )
        return str(created["id"])

    def tracking_pushes(self) -> int:  # noqa: D102
        return len(self.store.tracking_pushes)

    def completed_orders(self) -> int:  # noqa: D102
        return len(self.store.completed_orders)

    def duplicate_effects(self) -> int:  # noqa: D102
        return self.store.duplicate_effects


DEMO_STORES: dict[str, str] = {
    "woocommerce": "fbs_sandbox.demo_stores:WooCommerceDemoStore",
    "shopify": "fbs_sandbox.shopify.demo_store:ShopifyDemoStore",
    "ebay": "fbs_sandbox.ebay.demo_store:EbayDemoStore",
}
"""Channel type → ``module:class`` of its demo store, imported only when chosen."""


def demo_channel_types() -> tuple[str, ...]:
    """The channel types the demo can run, in the order ``--channel`` lists them."""
    return tuple(DEMO_STORES)


def make_demo_store(channel_type: str) -> DemoStore:
    """A new demo store of ``channel_type``.

    Raises:
        ValueError: the demo has no store for that channel type.
    """
    if channel_type not in DEMO_STORES:
        known = ", ".join(DEMO_STORES)
        raise ValueError(f"the demo has no {channel_type!r} store; it has: {known}")
    module_name, _, class_name = DEMO_STORES[channel_type].partition(":")
    factory: Callable[[], DemoStore] = getattr(importlib.import_module(module_name), class_name)
    return factory()
