"""The core's carrier vocabulary in eBay's ``shippingCarrierCode`` words.

eBay lists its carrier codes through the Trading API's GeteBayDetails
(``DetailName=ShippingCarrierDetails``, ShippingCarrierCodeType); the Sell Fulfillment
API takes the same values. A carrier the core does not know goes as the warehouse's name
with spaces and punctuation removed, which is how eBay spells its own multi-word codes.
"""

from __future__ import annotations

import re

from fbs_core.domain.carriers import Carrier, ShippingCarrier

EBAY_CARRIER_CODES: dict[Carrier, str] = {
    Carrier.ups: "UPS",
    Carrier.usps: "USPS",
    Carrier.fedex: "FedEx",
    Carrier.dhl: "DHL",
    Carrier.ontrac: "OnTrac",
    Carrier.amazon_shipping: "AmazonShipping",
    Carrier.lasership: "LaserShip",
}
OTHER = "Other"


def ebay_carrier_code(carrier: ShippingCarrier) -> str:
    """The ``shippingCarrierCode`` to send for ``carrier``."""
    known = EBAY_CARRIER_CODES.get(carrier.code)
    if known:
        return known
    squeezed = re.sub(r"[^A-Za-z0-9]+", "", carrier.name)
    return squeezed[:50] or OTHER
