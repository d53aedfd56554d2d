"""``[channels.<name>.options]`` for ``type = "shopify"``, and the carrier names Shopify knows."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from fbs_core.domain.carriers import Carrier

SHOP_EXAMPLE = 'shop = "acme-parts.myshopify.com"'
_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
_VERSION = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


class Mode(StrEnum):
    """How fbs works with the shop."""

    merchant = "merchant"
    """Read every paid order and fulfil the configured location's fulfillment orders."""
    fulfillment_service = "fulfillment_service"
    """Register as a fulfillment service and take only the orders Shopify routes to it."""


SHOPIFY_COMPANIES: dict[Carrier, str] = {
    Carrier.ups: "UPS",
    Carrier.usps: "USPS",
    Carrier.fedex: "FedEx",
    Carrier.dhl: "DHL Express",
    Carrier.ontrac: "OnTrac",
    Carrier.amazon_shipping: "Amazon",
    Carrier.lasership: "LaserShip",
}
"""The core's carrier codes → Shopify's supported tracking company names (for which
Shopify builds the tracking link itself). ``other`` is sent with the warehouse's name and
the parcel's tracking link."""


class ShopifyOptions(BaseModel):
    """Options of one Shopify shop."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shop: str
    """The shop's ``*.myshopify.com`` domain (not its own storefront domain)."""
    access_token: SecretStr
    """The custom app's Admin API access token (``shpat_...``)."""
    api_version: str = "2026-10"
    """Admin API version in the URL; the channel's queries are checked against 2026-10."""
    location: str | None = None
    """The location whose fulfillment orders fbs fulfils, by name or id; ``fbs check``
    lists the shop's locations when it is wrong or missing."""
    webhook_secret: SecretStr | None = None
    """The app's client secret, which signs webhook deliveries (X-Shopify-Hmac-Sha256)."""
    timeout: float = Field(default=10.0, gt=0, le=300)
    """Seconds to wait for Shopify on each call."""
    mode: Mode = Mode.merchant
    """``merchant`` (default) or ``fulfillment_service``."""
    service_name: str = Field(default="fbs", min_length=1, max_length=255)
    """In fulfillment-service mode: the name fbs registers its service (and location) under."""
    overlap_seconds: int = Field(default=300, ge=0, le=86_400)
    """Each sweep re-reads orders updated this long before the cursor, so orders that
    share a timestamp or changed while a poll was paging are never lost."""
    page_size: int = Field(default=5, ge=1, le=6)
    """Orders per page; at most 6 keeps a page's requested cost under 1,000 points."""
    max_pages_per_poll: int = Field(default=20, ge=1, le=1000)
    """Pages one poll reads before it returns the rest of a backlog as ``more``."""
    restore_rate: float = Field(default=100.0, gt=0)
    """Cost points per second the shop's bucket refills (Standard 100, Advanced 200,
    Plus 1000)."""
    bucket_size: float = Field(default=2000.0, ge=1000)
    """The shop's bucket of cost points (Standard 2,000)."""
    api_base_url: str | None = None
    """Where the Admin API is, if not ``https://<shop>``: a proxy, or a local imitation."""

    @field_validator("shop", mode="before")
    @classmethod
    def _shop_domain(cls, value: object) -> str:
        text = str(value or "").strip().lower().rstrip("/")
        if not _SHOP.fullmatch(text):
            raise ValueError(
                f"must be the shop's *.myshopify.com domain, without https:// or a path "
                f"(got {str(value)[:80]!r}); for example {SHOP_EXAMPLE}"
            )
        return text

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not _VERSION.fullmatch(value.strip()):
            raise ValueError('must be a Shopify API version such as "2026-10"')
        return value.strip()

    @property
    def endpoint(self) -> str:
        """The Admin GraphQL URL of the shop."""
        base = (self.api_base_url or f"https://{self.shop}").rstrip("/")
        return f"{base}/admin/api/{self.api_version}/graphql.json"
