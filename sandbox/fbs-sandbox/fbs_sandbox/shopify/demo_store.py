"""The Shopify imitation as a store of the demo (the ``DemoStore`` protocol).

The demo serves :attr:`ShopifyDemoStore.app` on a free 127.0.0.1 port and points the
real ``shopify`` channel at it through :meth:`channel_options`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import ShopifyImitation

if TYPE_CHECKING:
    from ..demo_data import PlannedOrder

DEMO_SHOP = "fbs-demo.myshopify.com"
DEMO_TOKEN = "shpat_demo_0123456789"
DEMO_LOCATION = "Drop-ship warehouse"


class ShopifyDemoStore:
    """A demo shop on the Shopify imitation (Plus-plan bucket, so the demo never waits)."""

    channel_type = "shopify"

    def __init__(self) -> None:
        self.imitation = ShopifyImitation(
            DEMO_TOKEN,
            shop=DEMO_SHOP,
            locations=(DEMO_LOCATION, "Shop floor"),
            bucket_size=20_000.0,
            restore_rate=1000.0,
        )
        self.app: Any = self.imitation.app

    def channel_options(self, base_url: str) -> dict[str, Any]:
        """``[channels.<name>.options]`` for the real plugin, pointed at ``base_url``."""
        return {
            "shop": DEMO_SHOP,
            "access_token": DEMO_TOKEN,
            "location": DEMO_LOCATION,
            "api_base_url": base_url,
            "restore_rate": 1000.0,
            "bucket_size": 20_000.0,
        }

    def place_order(self, order: PlannedOrder) -> str:
        """Put a paid order on the shop; return the external id fbs stores it under."""
        placed = self.imitation.add_order(
            lines=order.woo_lines(),
            shipping=dict(order.shipping),
            shipping_price=order.shipping_total(),
            tax=order.tax_total(),
            email=order.billing.get("email") or "buyer@example.com",
        )
        return str(placed.id)

    def tracking_pushes(self) -> int:
        """Tracking numbers written to the shop's fulfillments."""
        return sum(len(f.tracking) for f in self.imitation.shop.fulfillments.values())

    def completed_orders(self) -> int:
        """Orders whose every fulfillment order is closed with nothing left to fulfil."""
        shop = self.imitation.shop
        return sum(
            1
            for order in shop.orders.values()
            if order.cancelled_at is None
            and all(
                fo.status == "CLOSED" and all(li.remaining == 0 for li in fo.lines)
                for fo in shop.order_fulfillment_orders(order.id)
            )
        )

    def duplicate_effects(self) -> int:
        """Tracking numbers fulfilled twice on one order (must stay 0)."""
        return self.imitation.duplicate_effects
