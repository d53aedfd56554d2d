"""Orders in: what a poll reads from getOrders and how it pages.

Specified here:

* a poll reads every page (offset/limit as the document defines) and maps each order;
* the cursor moves to the newest modification minus the overlap, so a later poll reads
  only orders changed since (and a few before, harmlessly);
* past ``max_pages_per_poll`` a poll returns what it read with ``more=True`` and the next
  poll goes on from the next offset, without losing or repeating work;
* orders fully shipped are not asked for (fulfillment status filter);
* the seller's user id is the store identity;
* every request the plugin sent and every answer conformed to the official document.
"""

from __future__ import annotations

from fbs_core.domain import IncomingOrder

from .conftest import AUSTIN, line


def _ids(batch) -> set[str]:
    return {o.external_id for o in batch.orders}


def test_a_poll_reads_every_page(imitation, make_channel):
    placed = {imitation.add_order([line(f"SKU-{n}")], AUSTIN)["orderId"] for n in range(7)}
    channel = make_channel(page_size=3)

    batch = channel.fetch_orders(None)

    assert _ids(batch) == placed
    assert batch.more is False
    assert all(isinstance(o, IncomingOrder) for o in batch.orders)
    assert imitation.contract_problems == []


def test_the_cursor_moves_on_and_a_later_poll_reads_only_changes(imitation, make_channel):
    first = imitation.add_order([line("A")], AUSTIN)["orderId"]
    channel = make_channel(overlap_seconds=0)
    batch = channel.fetch_orders(None)
    assert _ids(batch) == {first}

    second = imitation.add_order([line("B")], AUSTIN)["orderId"]
    channel.state = batch.state  # the core would store and reload it
    later = channel.fetch_orders(batch.cursor)

    assert second in _ids(later)
    assert imitation.contract_problems == []


def test_a_page_budget_returns_part_with_more_and_the_rest_next(imitation, make_channel):
    placed = {imitation.add_order([line(f"P-{n}")], AUSTIN)["orderId"] for n in range(5)}
    channel = make_channel(page_size=2, max_pages_per_poll=1)

    seen: set[str] = set()
    cursor = None
    polls = 0
    while True:
        batch = channel.fetch_orders(cursor)
        seen |= _ids(batch)
        cursor = batch.cursor
        polls += 1
        if not batch.more:
            break
    assert seen == placed
    assert polls == 3


def test_orders_shipped_in_full_are_not_read_again(imitation, channel):
    shipped = imitation.add_order([line("A")], AUSTIN)
    open_order = imitation.add_order([line("B")], AUSTIN)["orderId"]
    channel.push_tracking(_push(shipped))

    assert _ids(channel.fetch_orders(None)) == {open_order}


def test_the_store_identity_is_the_seller_user_id(imitation, channel, make_channel):
    imitation.add_order([line("A")], AUSTIN)

    assert channel.store_identity() == "ebay:fbs-parts-seller"
    assert make_channel(seller_id="Other_Seller").store_identity() == "ebay:other_seller"


def _push(order):
    from datetime import UTC, datetime

    from fbs_core.domain import TrackingLine, TrackingPush

    return TrackingPush(
        idempotency_key=f"push-{order['orderId']}",
        external_order_id=order["orderId"],
        carrier="UPS",
        tracking_number=f"1Z{order['orderId'].replace('-', '')}",
        shipped_at=datetime.now(UTC),
        lines=tuple(
            TrackingLine(
                line_id=li["lineItemId"],
                sku=li["sku"],
                quantity=li["quantity"],
                channel_data={"line_item_id": li["lineItemId"]},
            )
            for li in order["lineItems"]
        ),
        completes_order=True,
    )
