"""Connections and declared limits of the WooCommerce channel.

Specified here:

* calls to one store reuse kept-alive connections: many calls, one connection, counted
  at the imitation (the package alone opens one per call);
* both REST APIs (WooCommerce's and the Shipment Tracking extension's) share them;
* with no limit options the channel declares none; ``requests_per_second``, ``burst``
  and ``max_concurrency`` are declared to the core, keyed by the store, so two instances
  on one store share them; a non-positive limit is refused.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from fbs_channel_woocommerce.channel import WooCommerceOptions
from fbs_core.ratelimits import UNLIMITED, RateLimits


def test_many_calls_to_one_store_use_one_connection(store, make_channel, us_address):
    channel = make_channel()
    order = store.add_order(
        lines=[{"sku": "BRK-1", "quantity": 1, "price": "10.00"}], shipping=us_address
    )["id"]
    for _ in range(10):
        channel.check()
    channel.client.get(f"orders/{order}")
    channel.client.get(f"orders/{order}/shipment-trackings", api="wc-shipment-tracking/v3")
    assert len(store.request_times) == 12
    assert store.connections == 1
    channel.close()


def test_limits_are_declared_only_when_configured(make_channel):
    assert make_channel().rate_limits() == UNLIMITED
    limited = make_channel(requests_per_second=2.5, burst=3, max_concurrency=2)
    assert limited.rate_limits() == RateLimits(requests_per_second=2.5, burst=3, max_concurrency=2)
    assert limited.rate_limit_key() == make_channel().rate_limit_key() == limited.store_identity()


def test_a_non_positive_limit_is_refused():
    base = {"url": "https://shop.example.com", "consumer_key": "ck", "consumer_secret": "cs"}
    with pytest.raises(ValidationError, match="requests_per_second"):
        WooCommerceOptions.model_validate({**base, "requests_per_second": 0})
    with pytest.raises(ValidationError, match="max_concurrency"):
        WooCommerceOptions.model_validate({**base, "max_concurrency": 0})
