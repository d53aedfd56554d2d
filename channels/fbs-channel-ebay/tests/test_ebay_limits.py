"""eBay's daily call limit: declared to the core, counted, and never overrun by polls.

Specified here:

* the channel declares ``daily_call_limit`` as its daily quota through the core's
  rate-limit contract, keyed by environment and instance;
* a 429 from eBay is a retriable ``rate_limited`` error (nothing lost: the cursor stays);
* near the limit a poll reads one page and the next poll waits so the calls left last
  the day; a skipped poll keeps the cursor and returns no order;
* ``check`` reports the calls made today.
"""

from __future__ import annotations

import pytest

from fbs_core.errors import RetriableError
from fbs_sandbox.ebay import EbayImitation

from .conftest import AUSTIN, CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, line


@pytest.fixture
def imitation() -> EbayImitation:
    return EbayImitation(CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, daily_quota=3)


def test_the_daily_limit_is_declared_to_the_core(make_channel):
    channel = make_channel(daily_call_limit=5000)

    assert channel.rate_limits().daily_quota == 5000
    assert channel.rate_limit_key() == "ebay:production:ebay-shop"


def test_a_429_is_retriable_and_rate_limited(imitation, channel):
    imitation.add_order([line("A")], AUSTIN)
    for _ in range(3):
        channel.fetch_orders(None)

    with pytest.raises(RetriableError) as raised:
        channel.fetch_orders(None)
    assert raised.value.code == "rate_limited"
    assert imitation.rate_limited == 1

    imitation.reset_quota()
    assert [o.external_id for o in channel.fetch_orders(None).orders]


def test_near_the_limit_polls_are_spaced_and_keep_the_cursor(imitation, make_channel):
    imitation.daily_quota = None
    imitation.add_order([line("A")], AUSTIN)
    channel = make_channel(daily_call_limit=20, quota_reserve=0.9)
    first = channel.fetch_orders(None)  # one call of twenty: far from the line
    channel.state = first.state
    second = channel.fetch_orders(first.cursor)  # the second call reaches the 10% line
    channel.state = second.state
    calls = imitation.calls_today

    skipped = channel.fetch_orders(second.cursor)

    assert calls == 2
    assert skipped.orders == () and skipped.cursor == second.cursor
    assert imitation.calls_today == calls
    assert "of 20 eBay calls today" in channel.usage_today()


def test_check_reports_todays_calls_and_warns_near_the_limit(imitation, make_channel, caplog):
    import logging

    imitation.daily_quota = None
    channel = make_channel(daily_call_limit=10, quota_reserve=0.5)
    with caplog.at_level(logging.INFO, logger="fbs"):
        assert channel.check() == "1 of 10 eBay calls today"  # shown beside "ok"
        assert "1 of 10 eBay calls today" in caplog.text
        for _ in range(4):
            channel.check()
    assert any(
        r.levelno == logging.WARNING and "5 of 10 eBay calls today" in r.getMessage()
        for r in caplog.records
    )
