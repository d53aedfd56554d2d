"""Options: what a merchant may write under ``[channels.<name>.options]``.

Specified here: the three credentials are required secrets that never show in the
options' text; the environment picks eBay's addresses and test overrides replace them;
each mode demands its own credentials; bad page sizes, marketplaces and
verification tokens are refused.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fbs_channel_ebay.ebay_options import EbayOptions

BASE = {"client_id": "app-id", "client_secret": "cert-id", "refresh_token": "v^1.1#r"}


def test_credentials_are_secret_and_the_environment_picks_the_addresses():
    options = EbayOptions(**BASE, environment="sandbox")

    assert "cert-id" not in repr(options) and "v^1.1#r" not in repr(options)
    assert options.endpoints().fulfillment == "https://api.sandbox.ebay.com/sell/fulfillment/v1"
    assert options.endpoints().token == "https://api.sandbox.ebay.com/identity/v1/oauth2/token"
    assert EbayOptions(**BASE).endpoints().fulfillment == "https://api.ebay.com/sell/fulfillment/v1"
    overridden = EbayOptions(**BASE, api_url="http://127.0.0.1:4011/")
    assert overridden.endpoints().fulfillment == "http://127.0.0.1:4011"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"api": "trading"}, "needs auth_token"),
        ({"page_size": 201}, "200"),
        ({"marketplace": "US"}, "pattern"),
        ({"verification_token": "short"}, "32 to 80"),
        ({"environment": "staging"}, "production"),
    ],
)
def test_bad_options_are_refused_clearly(extra, message):
    with pytest.raises(ValidationError, match=message):
        EbayOptions(**BASE, **extra)


def test_credentials_are_required():
    with pytest.raises(ValidationError, match="client_secret"):
        EbayOptions(client_id="a", refresh_token="r")
    with pytest.raises(ValidationError, match="refresh_token"):
        EbayOptions(client_id="a", client_secret="b")


def test_the_daily_limit_defaults_to_the_apis_quota():
    assert EbayOptions(**BASE).call_limit() == 100_000
    trading = EbayOptions(
        **{**BASE, "refresh_token": None}, api="trading", auth_token="t", dev_id="d"
    )
    assert trading.call_limit() == 5_000
    assert EbayOptions(**BASE, daily_call_limit=250).call_limit() == 250
