"""OAuth: the user token comes from the refresh token and lives in durable state.

Specified here:

* the first call mints a token; the poll returns it (and its expiry) as state, so the
  next poll (or a restart) uses it instead of minting another;
* a token eBay stops accepting in the middle of a poll is refreshed and the poll
  completes with every order;
* a revoked refresh token is a clear AuthError, in a poll and in ``check``;
* the token never appears in a log record; the core masks the ``access_token`` key;
* a refresh token past its stated expiry fails ``check`` before any call.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from fbs_core.errors import AuthError

from .conftest import AUSTIN, line


def test_the_token_is_kept_in_state_and_reused(imitation, channel, make_channel):
    imitation.add_order([line("A")], AUSTIN)
    batch = channel.fetch_orders(None)
    assert set(batch.state) >= {"access_token", "access_token_expires_at"}
    grants = imitation.token_grants

    restarted = make_channel()
    restarted.state = batch.state
    restarted.fetch_orders(batch.cursor)

    assert imitation.token_grants == grants
    assert restarted.is_secret_state_key("access_token")
    assert restarted.masked_state()["access_token"] == "***"


def test_a_token_expiring_mid_poll_is_refreshed_and_the_poll_completes(imitation, make_channel):
    placed = {imitation.add_order([line(f"S{n}")], AUSTIN)["orderId"] for n in range(6)}
    channel = make_channel(page_size=2)
    channel.store_identity()  # one call with the first token
    imitation.expire_tokens_after(1)

    batch = channel.fetch_orders(None)

    assert {o.external_id for o in batch.orders} == placed
    assert channel.tokens.refreshes == 2
    assert imitation.contract_problems == []


def test_a_revoked_refresh_token_is_a_clear_auth_error(imitation, channel):
    imitation.revoke_refresh_token()

    with pytest.raises(AuthError, match="invalid_grant") as raised:
        channel.fetch_orders(None)
    assert raised.value.code == "refresh_token_revoked"
    with pytest.raises(AuthError, match="revoked"):
        channel.check()


def test_no_token_reaches_a_log_record(imitation, channel, caplog):
    imitation.add_order([line("A")], AUSTIN)
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="fbs"):
        batch = channel.fetch_orders(None)
        channel.check()
    token = batch.state["access_token"]
    assert token not in caplog.text
    assert "calls today" in caplog.text


def test_an_expired_refresh_token_fails_the_check_before_calling(imitation, make_channel):
    channel = make_channel(refresh_token_expires_at=datetime.now(UTC) - timedelta(days=1))

    with pytest.raises(AuthError, match="expired"):
        channel.check()
    assert imitation.token_grants == 0


def test_a_token_near_its_expiry_is_refreshed_before_it_is_used(imitation, server):
    from fbs_channel_ebay.ebay_channel import EbayChannel
    from fbs_channel_ebay.ebay_options import EbayOptions

    from .conftest import channel_options

    now = [datetime.now(UTC)]
    channel = EbayChannel(
        "ebay-shop", EbayOptions(**channel_options(server.url)), clock=lambda: now[0]
    )
    imitation.add_order([line("A")], AUSTIN)
    first = channel.fetch_orders(None)
    now[0] += timedelta(seconds=7200 - 120)  # two minutes left: inside the refresh margin

    channel.state = first.state
    second = channel.fetch_orders(first.cursor)
    channel.close()

    assert second.state["access_token"] != first.state["access_token"]
    assert channel.tokens.refreshes == 2
    assert [e.status for e in server.log.entries if e.status == 401] == []
