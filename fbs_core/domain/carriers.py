"""One carrier vocabulary for the core; each channel maps it to its own codes.

Warehouses name carriers as they please ("UPS Ground", "Federal Express", "U.S. Postal
Service"). :func:`identify_carrier` turns such a name into a :class:`Carrier` code with a
display name and a tracking link, so a channel plugin maps a handful of codes to its own
list (Shopify's company names, eBay's carrier codes, the Shipment Tracking extension's
providers) instead of guessing at free text. Anything not recognised is
:attr:`Carrier.other`, keeping the warehouse's name and tracking link as they came.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Carrier(StrEnum):
    """Carriers the core knows by name."""

    ups = "ups"
    usps = "usps"
    fedex = "fedex"
    dhl = "dhl"
    ontrac = "ontrac"
    amazon_shipping = "amazon_shipping"
    lasership = "lasership"
    other = "other"


DISPLAY_NAMES: dict[Carrier, str] = {
    Carrier.ups: "UPS",
    Carrier.usps: "USPS",
    Carrier.fedex: "FedEx",
    Carrier.dhl: "DHL",
    Carrier.ontrac: "OnTrac",
    Carrier.amazon_shipping: "Amazon Shipping",
    Carrier.lasership: "LaserShip",
}

TRACKING_LINKS: dict[Carrier, str] = {
    Carrier.ups: "https://www.ups.com/track?tracknum={number}",
    Carrier.usps: "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    Carrier.fedex: "https://www.fedex.com/fedextrack/?trknbr={number}",
    Carrier.dhl: "https://www.dhl.com/us-en/home/tracking.html?tracking-id={number}",
    Carrier.ontrac: "https://www.ontrac.com/tracking/?number={number}",
    Carrier.amazon_shipping: "https://track.amazon.com/tracking/{number}",
    Carrier.lasership: "https://www.lasership.com/track/{number}",
}
"""Public tracking pages; ``{number}`` is the tracking number."""

_ALIASES: tuple[tuple[Carrier, re.Pattern[str]], ...] = (
    (Carrier.ups, re.compile(r"^(ups|united parcel service)\b")),
    (Carrier.usps, re.compile(r"^(usps|us postal service|united states postal service|us mail)\b")),
    (Carrier.fedex, re.compile(r"^(fedex|fed ex|federal express)\b")),
    (Carrier.dhl, re.compile(r"^dhl\b")),
    (Carrier.ontrac, re.compile(r"^on ?trac\b")),
    (Carrier.amazon_shipping, re.compile(r"^(amazon|amzl)\b")),
    (Carrier.lasership, re.compile(r"^laser ?ship\b")),
)


class ShippingCarrier(BaseModel):
    """A carrier as the core names it, with the warehouse's own words kept."""

    model_config = ConfigDict(frozen=True)

    code: Carrier
    name: str
    """Display name: ours for a known carrier, the warehouse's for ``other``."""
    tracking_url: str | None = None


def _normalise(text: str) -> str:
    """Lower case, dots dropped ("U.S." is "us"), other punctuation as single spaces."""
    spaced = re.sub(r"[^a-z0-9]+", " ", text.lower().replace(".", ""))
    return " ".join(spaced.split())


def identify_carrier(
    name: str, tracking_number: str = "", tracking_url: str | None = None
) -> ShippingCarrier:
    """The carrier a warehouse's ``name`` means, with a tracking link.

    A link the warehouse gave is kept; otherwise a known carrier gets its public tracking
    page. An unknown name is ``other`` with the name as given.
    """
    text = _normalise(name)
    for code, pattern in _ALIASES:
        if pattern.search(text):
            link = tracking_url or (
                TRACKING_LINKS[code].format(number=tracking_number) if tracking_number else None
            )
            return ShippingCarrier(code=code, name=DISPLAY_NAMES[code], tracking_url=link)
    return ShippingCarrier(
        code=Carrier.other, name=name.strip() or "Other", tracking_url=tracking_url
    )
