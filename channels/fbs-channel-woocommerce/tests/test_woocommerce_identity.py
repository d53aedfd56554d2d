"""The store identity a WooCommerce channel reports: its configured site URL, normalized.

No route is asked for it: the REST API lives under the site URL, so the configured URL
is what names the store (see ``WooCommerceChannel.store_identity``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest


def test_the_channel_names_its_store_by_the_url_it_reads(server, make_channel):
    channel = make_channel()
    channel.check()  # the identity belongs to the store the channel really reads

    port = urlsplit(server.url).port
    assert channel.store_identity() == f"woocommerce:127.0.0.1:{port}"
    assert server.log.matching("GET", "/wp-json/wc/v3/system_status") == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://Shop.Example.com", "http://shop.example.com/"),
        ("https://shop.example.com:443/", "https://shop.example.com"),
        ("https://shop.example.com/store//", "https://shop.example.com/store"),
    ],
)
def test_spellings_of_one_address_name_one_store(make_channel, first, second):
    assert make_channel(url=first).store_identity() == make_channel(url=second).store_identity()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("https://shop.example.com", "https://www.shop.example.com"),
        ("https://example.com/store-a", "https://example.com/store-b"),
        ("https://shop.example.com:8443", "https://shop.example.com"),
    ],
)
def test_different_addresses_name_different_stores(make_channel, first, second):
    assert make_channel(url=first).store_identity() != make_channel(url=second).store_identity()
