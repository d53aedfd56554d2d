"""Intake: store what a channel poll returned, idempotently, and review new orders.

Each order is stored in its own savepoint and under its row lock: an order whose data
the database refuses is rejected with the reason while the rest of the batch lands, and
a change is never decided on a stale read of an order another process is changing.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from ..db import repository as repo
from ..db.models import OrderLineRow, OrderRow
from ..domain import IncomingOrder, OrderBatch, OrderStatus, UnreadableOrder
from . import transitions as t
from .cancellation import cancel_order
from .context import PipelineContext
from .review import review
from .stores import identity_of
from .upstream_reductions import lower_lines, lowered_quantities

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("fbs.intake")

AWAITING_CHANNEL = "awaiting_channel"
"""Reason code of an order the channel asked fbs to wait on (``IncomingOrder.awaiting``)."""

UNSTORABLE = "unstorable_order"
"""Reason code of an order whose data fbs cannot store (a field too long, a NUL byte)."""

BEFORE_PURCHASE = frozenset(
    {OrderStatus.received, OrderStatus.held, OrderStatus.approved, OrderStatus.rejected}
)
"""States in which an upstream change can still be applied to the order."""


@dataclass
class IntakeResult:
    """What one batch did: counts by outcome (``new``, ``unchanged``, ``updated``, …)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    """Orders that could not be stored at all, not even as rejected: for the poll's error."""

    @property
    def changed(self) -> int:
        """How many orders the batch created or changed."""
        return sum(n for outcome, n in self.outcomes.items() if outcome != "unchanged")


def ingest(ctx: PipelineContext, session: Session, channel: str, batch: OrderBatch) -> IntakeResult:
    """Apply one poll's orders; a re-poll or a duplicate webhook changes nothing."""
    result = IntakeResult()
    for item in batch.orders:
        result.outcomes[_ingest_isolated(ctx, session, channel, item, result)] += 1
    return result


def _ingest_isolated(
    ctx: PipelineContext,
    session: Session,
    channel: str,
    item: IncomingOrder | UnreadableOrder,
    result: IntakeResult,
) -> str:
    """Store one order in a savepoint; if its data fails, store it as rejected instead."""
    if isinstance(item, IncomingOrder):
        too_long = _too_long(item)
        if too_long:
            item = _unstorable(item, too_long)
    for attempt in (1, 2):
        try:
            with session.begin_nested():
                if isinstance(item, UnreadableOrder):
                    return _ingest_unreadable(ctx, session, channel, item)
                outcome = _ingest_order(ctx, session, channel, item)
                session.flush()
                return outcome
        except IntegrityError as exc:
            if attempt == 1:
                # another process stored the same new order first (a webhook's poll beside
                # a scheduled one): the unique index made this insert wait for it, so the
                # order can now be read and locked like any known one
                log.info("%s: order %s was stored meanwhile; reading it", channel, item.external_id)
                continue
            failure: Exception = exc
        except Exception as exc:  # noqa: BLE001 - one order's data never stops the batch
            failure = exc
        break
    log.warning("%s: order %s could not be stored: %s", channel, item.external_id, failure)
    problem = f"{type(failure).__name__}: {str(failure).splitlines()[0] if str(failure) else ''}"
    fallback = _unstorable(item, f"The database refused it ({problem}).")
    try:
        with session.begin_nested():
            return _ingest_unreadable(ctx, session, channel, fallback)
    except Exception as exc:  # noqa: BLE001 - not even its id can be stored
        result.problems.append(f"order {item.external_id[:80]!r} could not be stored: {exc}")
        return "unstorable"


def _too_long(incoming: IncomingOrder) -> str | None:
    """Name a field longer than fbs stores (and than any channel allows), if there is one."""
    limit = OrderLineRow.__table__.c.sku.type.length
    fields = [("order id", incoming.external_id), ("order number", incoming.number or "")]
    for line in incoming.lines:
        fields += [("line id", line.line_id), ("SKU", line.sku.strip())]
    for name, value in fields:
        if len(value) > limit:
            return f"Its {name} is {len(value)} characters long; fbs stores at most {limit}."
    return None


def _unstorable(item: IncomingOrder | UnreadableOrder, message: str) -> UnreadableOrder:
    return UnreadableOrder(
        external_id=item.external_id,
        reason=UNSTORABLE,
        message=message,
        updated_at=item.updated_at,
    )


def _line_rows(merchant_id: str, incoming: IncomingOrder) -> list[OrderLineRow]:
    return [
        OrderLineRow(
            merchant_id=merchant_id,
            line_id=line.line_id,
            sku=line.sku.strip(),
            quantity=line.quantity,
            title=line.title,
            unit_price_cents=line.unit_price.cents,
            currency=line.unit_price.currency,
            channel_data=dict(line.channel_data),
        )
        for line in incoming.lines
    ]


def _content(incoming: IncomingOrder) -> tuple[object, ...]:
    lines = tuple(
        (line.line_id, line.sku.strip(), line.quantity, line.unit_price.cents)
        for line in incoming.lines
    )
    ship_to = incoming.ship_to.model_dump() if incoming.ship_to else None
    return lines, ship_to


def _row_content(row: OrderRow) -> tuple[object, ...]:
    lines = tuple(
        (line.line_id, line.sku, line.quantity, line.unit_price_cents) for line in row.lines
    )
    return lines, row.ship_to


def _ingest_order(
    ctx: PipelineContext, session: Session, channel: str, incoming: IncomingOrder
) -> str:
    store = identity_of(ctx, channel)
    row = repo.find_order(session, ctx.merchant_id, store, incoming.external_id, lock=True)
    if row is None:
        if incoming.cancelled:
            return "ignored_cancelled"
        now = ctx.now()
        row = OrderRow(
            merchant_id=ctx.merchant_id,
            channel=channel,
            store_identity=store,
            external_id=incoming.external_id,
            number=incoming.number or incoming.external_id,
            status=OrderStatus.received,
            currency=incoming.currency.upper(),
            ship_to=incoming.ship_to.model_dump() if incoming.ship_to else None,
            buyer_paid=incoming.buyer_paid.model_dump(mode="json") if incoming.buyer_paid else None,
            channel_data=dict(incoming.channel_data),
            ship_by=incoming.ship_by,
            placed_at=incoming.placed_at,
            upstream_updated_at=incoming.updated_at,
            created_at=now,
            updated_at=now,
            lines=_line_rows(ctx.merchant_id, incoming),
        )
        session.add(row)
        t.record(
            ctx, session, row, "imported", f"Imported from {channel}.", actor=f"channel:{channel}"
        )
        if incoming.awaiting:
            t.hold(ctx, session, row, AWAITING_CHANNEL, incoming.awaiting)
        else:
            review(ctx, session, row, repo.order_to_domain(row))
        return "new"
    if incoming.updated_at <= row.upstream_updated_at:
        return "unchanged"
    row.upstream_updated_at = incoming.updated_at
    if OrderStatus(row.status).is_final and row.status != OrderStatus.rejected:
        return "unchanged"
    if incoming.cancelled:
        cancel_order(
            ctx, session, row, actor=f"channel:{channel}", reason="Cancelled on the channel."
        )
        return "cancelled"
    channel_data_changed = _refresh_channel_data(row, incoming)
    waiting = _await_channel(ctx, session, row, incoming, channel)
    if waiting is not None:
        return waiting
    if row.hold_reason == AWAITING_CHANNEL and row.status == OrderStatus.held:
        # the channel decided and the order stands: review it again as it now is
        if _content(incoming) != _row_content(row):
            _apply_change(ctx, session, row, incoming, channel)
        else:
            t.reopen(
                ctx,
                session,
                row,
                "The channel no longer asks to wait; reviewed again.",
                actor=f"channel:{channel}",
            )
            review(ctx, session, row, repo.order_to_domain(row))
        return "released"
    if _content(incoming) == _row_content(row):
        return "updated" if channel_data_changed else "unchanged"
    if row.status in BEFORE_PURCHASE and not _money_taken_or_in_flight(session, row):
        _apply_change(ctx, session, row, incoming, channel)
        return "updated"
    lowered = lowered_quantities(row, incoming) if _can_ask_back(session, row) else None
    if lowered is not None:
        if lowered:
            lower_lines(ctx, session, row, lowered, actor=f"channel:{channel}")
            return "lowered"
        return "updated" if channel_data_changed else "unchanged"
    t.record(
        ctx,
        session,
        row,
        "modified_upstream",
        "The order changed on the channel after parts were bought; the change was not applied.",
        actor=f"channel:{channel}",
    )
    return "modified_after_purchase"


def _await_channel(
    ctx: PipelineContext, session: Session, row: OrderRow, incoming: IncomingOrder, channel: str
) -> str | None:
    """Hold an order the channel asks fbs to wait on, while nothing is bought yet.

    Returns the intake outcome, or None when the channel does not ask to wait. Once money
    is taken or parts are bought, the request is only recorded: the channel's decision
    (a cancellation, or none) is what moves the order then.
    """
    if not incoming.awaiting or row.status == OrderStatus.rejected:
        return None
    if row.hold_reason == AWAITING_CHANNEL and row.status == OrderStatus.held:
        return "unchanged"
    nothing_bought = row.status in (
        OrderStatus.received,
        OrderStatus.held,
        OrderStatus.approved,
    ) and not _money_taken_or_in_flight(session, row)
    if nothing_bought:
        row.source_generation += 1  # a sourcing run already queued is stale now
        t.hold(ctx, session, row, AWAITING_CHANNEL, incoming.awaiting, actor=f"channel:{channel}")
        return "awaiting"
    t.record(
        ctx,
        session,
        row,
        "channel_asks_to_wait",
        f"{incoming.awaiting} Parts are already paid for or bought, so the order goes on "
        "unless the channel cancels it.",
        actor=f"channel:{channel}",
    )
    return "awaiting"


def _can_ask_back(session: Session, row: OrderRow) -> bool:
    """Whether a lowered quantity can be asked back from the warehouses now.

    Only while the order goes its normal way: not while it is held for the merchant
    (money stated in the hold would change under it), and not while a refused purchase
    order waits to be bought elsewhere (it would be bought for units no longer wanted).
    Otherwise the change is recorded for the merchant, as any change after purchase.
    """
    if row.status not in (
        OrderStatus.charged,
        OrderStatus.ordered,
        OrderStatus.partially_shipped,
        OrderStatus.shipped,
    ):
        return False
    return all(po.status != "failed" for po in repo.purchase_orders_for(session, row.id))


def _refresh_channel_data(row: OrderRow, incoming: IncomingOrder) -> bool:
    """Take the channel's latest references (and ship-by date) for the order and its lines.

    They are the channel's own bookkeeping, not what was bought, so they are kept current
    in every state; a line the modification dropped keeps what it had. True if any changed.
    """
    changed = False
    if (row.channel_data or {}) != incoming.channel_data:
        row.channel_data = dict(incoming.channel_data)
        changed = True
    if row.ship_by != incoming.ship_by:
        row.ship_by = incoming.ship_by
        changed = True
    by_line_id = {line.line_id: line for line in incoming.lines}
    for line_row in row.lines:
        line = by_line_id.get(line_row.line_id)
        if line is not None and (line_row.channel_data or {}) != line.channel_data:
            line_row.channel_data = dict(line.channel_data)
            changed = True
    return changed


def _money_taken_or_in_flight(session: Session, row: OrderRow) -> bool:
    """A charge succeeded, or was sent and its outcome is not known yet."""
    return any(
        charge.status in ("succeeded", "pending") for charge in repo.charges_for(session, row.id)
    )


def _apply_change(
    ctx: PipelineContext, session: Session, row: OrderRow, incoming: IncomingOrder, channel: str
) -> None:
    repo.replace_lines(row, _line_rows(ctx.merchant_id, incoming))
    row.ship_to = incoming.ship_to.model_dump() if incoming.ship_to else None
    row.buyer_paid = incoming.buyer_paid.model_dump(mode="json") if incoming.buyer_paid else None
    session.flush()
    t.reopen(
        ctx, session, row, "Updated from the channel; reviewed again.", actor=f"channel:{channel}"
    )
    review(ctx, session, row, repo.order_to_domain(row))


def _ingest_unreadable(
    ctx: PipelineContext, session: Session, channel: str, item: UnreadableOrder
) -> str:
    store = identity_of(ctx, channel)
    row = repo.find_order(session, ctx.merchant_id, store, item.external_id, lock=True)
    now = ctx.now()
    if row is not None:
        if row.hold_reason == item.reason or OrderStatus(row.status).is_final:
            return "unchanged"
        t.record(
            ctx,
            session,
            row,
            "unreadable_update",
            f"An update from the channel could not be read: {item.message}",
            actor=f"channel:{channel}",
        )
        return "unreadable"
    row = OrderRow(
        merchant_id=ctx.merchant_id,
        channel=channel,
        store_identity=store,
        external_id=item.external_id,
        number=item.external_id,
        status=OrderStatus.received,
        placed_at=item.updated_at or now,
        upstream_updated_at=item.updated_at or now,
        created_at=now,
        updated_at=now,
        lines=[],
    )
    session.add(row)
    t.record(ctx, session, row, "imported", f"Imported from {channel}.", actor=f"channel:{channel}")
    t.reject(ctx, session, row, item.reason, item.message)
    return "unreadable"
