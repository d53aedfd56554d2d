"""The eBay imitation as a demo store (the ``DemoStore`` protocol of the demo).

The demo serves :attr:`EbayDemoStore.app` on a loopback port, points the real ``ebay``
channel at it with :meth:`EbayDemoStore.channel_options`, places its planned orders with
:meth:`EbayDemoStore.place_order` and reads the counters at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import EbayImitation

if TYPE_CHECKING:
    from ..demo_data import PlannedOrder

CLIENT_ID = "fbs-demo-PRD-a1b2c3d4e5"
CLIENT_SECRET = "PRD-demo-cert-0f1e2d3c4b5a"
REFRESH_TOKEN = "v^1.1#i^1#r^1#demo-refresh-token"
SELLER_ID = "fbs-demo-parts"


def ebay_contact(shipping: dict[str, str], email: str | None = None) -> dict[str, Any]:
    """A WooCommerce-shaped shipping address as eBay's ``ExtendedContact``."""
    address = {
        "addressLine1": shipping.get("address_1", ""),
        "city": shipping.get("city", ""),
        "stateOrProvince": shipping.get("state", ""),
        "postalCode": shipping.get("postcode", ""),
        "countryCode": shipping.get("country", ""),
    }
    if shipping.get("address_2"):
        address["addressLine2"] = shipping["address_2"]
    contact: dict[str, Any] = {
        "fullName": f"{shipping.get('first_name', '')} {shipping.get('last_name', '')}".strip(),
        "contactAddress": address,
    }
    if email:
        contact["email"] = email
    return contact


class EbayDemoStore:
    """An eBay seller account for the demo, served by the eBay imitation."""

    channel_type = "ebay"

    def __init__(self) -> None:
        self.imitation = EbayImitation(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, seller_id=SELLER_ID)
        self.app = self.imitation.app

    def channel_options(self, base_url: str) -> dict[str, Any]:
        """The ``[channels.<name>.options]`` table pointing the real plugin at ``base_url``."""
        base = base_url.rstrip("/")
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "refresh_token": REFRESH_TOKEN,
            "seller_id": SELLER_ID,
            "api_url": f"{base}/sell/fulfillment/v1",
            "token_url": f"{base}/identity/v1/oauth2/token",
            "notification_url": f"{base}/commerce/notification/v1",
        }

    def place_order(self, order: PlannedOrder) -> str:
        """Put a paid order on the account; return its eBay order id."""
        lines = [
            {
                "sku": part.sku,
                "title": part.name,
                "quantity": quantity,
                "price": f"{part.retail_cents / 100:.2f}",
            }
            for part, quantity in order.lines
        ]
        placed = self.imitation.add_order(
            lines,
            ebay_contact(order.shipping, order.billing.get("email")),
            shipping=order.shipping_total(),
            tax=order.tax_total(),
            buyer=order.billing.get("email", "buyer").split("@")[0] or "buyer",
        )
        return str(placed["orderId"])

    def tracking_pushes(self) -> int:
        """Shipping fulfillments the account received."""
        return self.imitation.fulfillment_count

    def completed_orders(self) -> int:
        """Orders fully fulfilled on the account."""
        return self.imitation.fulfilled_orders

    def duplicate_effects(self) -> int:
        """Fulfillments created twice for one parcel (must stay 0)."""
        return self.imitation.duplicate_effects
