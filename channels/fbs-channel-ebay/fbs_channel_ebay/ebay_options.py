"""``[channels.<name>.options]`` for ``type = "ebay"``, and the eBay addresses they imply."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    field_validator,
    model_validator,
)

FULFILLMENT_SCOPE = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
"""The one user scope fbs needs: read orders and add shipping fulfillments."""
APPLICATION_SCOPE = "https://api.ebay.com/oauth/api_scope"
"""The client-credentials scope the Notification API's public-key call needs."""

_VERIFICATION_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,80}$")


class EbayApi(StrEnum):
    """Which eBay API the channel speaks."""

    fulfillment = "fulfillment"
    """The Sell Fulfillment REST API with an OAuth user token (the default)."""
    trading = "trading"
    """The legacy Trading XML API (GetOrders, CompleteSale)."""


class EbayEnvironment(StrEnum):
    """eBay's production site or its developer sandbox."""

    production = "production"
    sandbox = "sandbox"


@dataclass(frozen=True)
class EbayEndpoints:
    """Where each eBay API lives for one environment."""

    fulfillment: str
    token: str
    notification: str
    trading: str


ENDPOINTS: dict[EbayEnvironment, EbayEndpoints] = {
    EbayEnvironment.production: EbayEndpoints(
        fulfillment="https://api.ebay.com/sell/fulfillment/v1",
        token="https://api.ebay.com/identity/v1/oauth2/token",
        notification="https://api.ebay.com/commerce/notification/v1",
        trading="https://api.ebay.com/ws/api.dll",
    ),
    EbayEnvironment.sandbox: EbayEndpoints(
        fulfillment="https://api.sandbox.ebay.com/sell/fulfillment/v1",
        token="https://api.sandbox.ebay.com/identity/v1/oauth2/token",
        notification="https://api.sandbox.ebay.com/commerce/notification/v1",
        trading="https://api.sandbox.ebay.com/ws/api.dll",
    ),
}


class EbayOptions(BaseModel):
    """``[channels.<name>.options]`` for ``type = "ebay"``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api: EbayApi = EbayApi.fulfillment
    """``fulfillment`` (Sell Fulfillment REST API, the default) or ``trading``."""
    client_id: SecretStr
    """The application's App ID (Client ID) from the eBay developer portal."""
    client_secret: SecretStr
    """The application's Cert ID (Client Secret)."""
    refresh_token: SecretStr | None = None
    """The seller's OAuth refresh token, minted with the ``sell.fulfillment`` scope
    (required with ``api = "fulfillment"``)."""
    auth_token: SecretStr | None = None
    """The seller's Auth'n'Auth token (required with ``api = "trading"``)."""
    dev_id: SecretStr | None = None
    """The developer account's Dev ID (required with ``api = "trading"``)."""
    site_id: int = Field(default=0, ge=0, le=300)
    """The Trading API site (``0`` is eBay US, ``100`` eBay Motors)."""
    compatibility_level: int = Field(default=1349, ge=837)
    """The Trading API schema version sent with each call."""
    refresh_token_expires_at: AwareDatetime | None = None
    """When the refresh token itself expires (eBay says so when it is minted, about 18
    months later); ``fbs check`` warns 30 days before."""
    environment: EbayEnvironment = EbayEnvironment.production
    """``production`` or ``sandbox`` (eBay's developer sandbox)."""
    marketplace: str = Field(default="EBAY_US", pattern=r"^EBAY_[A-Z_]{2,10}$")
    """The marketplace id sent as ``X-EBAY-C-MARKETPLACE-ID`` (``EBAY_US``, ``EBAY_MOTORS_US``)."""
    seller_id: str | None = Field(default=None, min_length=1, max_length=64)
    """The seller's eBay user id; read from the first order when not given."""
    timeout: float = Field(default=15.0, gt=0, le=300)
    """Seconds to wait for eBay on each call."""
    overlap_seconds: int = Field(default=600, ge=0, le=86_400)
    """Each poll re-reads orders modified this long before the cursor."""
    page_size: int = Field(default=100, ge=1, le=200)
    """Orders per ``getOrders`` page (eBay allows at most 200)."""
    max_pages_per_poll: int = Field(default=20, ge=1, le=1_000)
    """Pages one poll reads; past it the poll returns with ``more`` and goes on at once."""
    daily_call_limit: int | None = Field(default=None, ge=10)
    """Calls per day eBay allows the application for this API (see the developer portal's
    API call limits page); default 100,000 for the Fulfillment API, 5,000 for Trading."""
    quota_reserve: float = Field(default=0.1, ge=0, lt=1)
    """Share of the daily limit kept for tracking: past the rest, polls are spaced out so
    the limit lasts until eBay resets it."""
    verification_token: SecretStr | None = None
    """The verification token set for marketplace account deletion notifications
    (32 to 80 letters, digits, ``_`` or ``-``)."""
    endpoint_url: HttpUrl | None = None
    """The public URL of ``/app-webhooks/ebay`` as entered on the developer portal."""
    api_url: HttpUrl | None = None
    """Base URL of the Sell Fulfillment API (default: the environment's); for tests."""
    token_url: HttpUrl | None = None
    """The OAuth token endpoint (default: the environment's); for tests."""
    notification_url: HttpUrl | None = None
    """Base URL of the Notification API (default: the environment's); for tests."""
    trading_url: HttpUrl | None = None
    """The Trading API endpoint (default: the environment's ``/ws/api.dll``); for tests."""

    @field_validator("verification_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _VERIFICATION_TOKEN.match(value.get_secret_value()):
            raise ValueError(
                "eBay accepts 32 to 80 characters: letters, digits, underscore and hyphen"
            )
        return value

    @model_validator(mode="after")
    def _credentials_for_the_api(self) -> EbayOptions:
        if self.api is EbayApi.fulfillment and self.refresh_token is None:
            raise ValueError("api = 'fulfillment' needs refresh_token (an OAuth refresh token)")
        if self.api is EbayApi.trading and (self.auth_token is None or self.dev_id is None):
            raise ValueError("api = 'trading' needs auth_token (Auth'n'Auth) and dev_id")
        return self

    def call_limit(self) -> int:
        """The daily call limit in force: the option, else the API's default quota."""
        if self.daily_call_limit is not None:
            return self.daily_call_limit
        return 100_000 if self.api is EbayApi.fulfillment else 5_000

    def endpoints(self) -> EbayEndpoints:
        """The eBay addresses to call: the environment's, with any override applied."""
        default = ENDPOINTS[self.environment]
        return EbayEndpoints(
            fulfillment=str(self.api_url or default.fulfillment).rstrip("/"),
            token=str(self.token_url or default.token),
            notification=str(self.notification_url or default.notification).rstrip("/"),
            trading=str(self.trading_url or default.trading),
        )
