"""Queries, and the mapping between rows and domain objects.

The pipeline changes rows through the functions here inside one transaction; plugins
and the CLI only ever receive the domain objects these functions build.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from ..domain import (
    FINAL_STATUSES,
    Address,
    BuyerTotals,
    Order,
    OrderLine,
    OrderStatus,
    TimelineEvent,
)
from ..domain.money import Money
from ..domain.views import (
    ChargeView,
    CommandView,
    OrderDetail,
    PlanView,
    PurchaseOrderView,
    RefundView,
    ShipmentView,
)
from .models import (
    ChargeRow,
    InstallationRow,
    InstanceHeartbeatRow,
    InstanceStateRow,
    OrderLineRow,
    OrderRow,
    OutboxCommandRow,
    PurchaseOrderRow,
    RefundRow,
    ShipmentRow,
    SourcingPlanRow,
    TimelineEventRow,
)

# -- orders -------------------------------------------------------------------------


def order_to_domain(row: OrderRow) -> Order:
    """Build the domain view of an order row (lines are loaded with it)."""
    return Order(
        id=row.id,
        merchant_id=row.merchant_id,
        channel=row.channel,
        external_id=row.external_id,
        number=row.number,
        status=OrderStatus(row.status),
        hold_reason=row.hold_reason,
        hold_message=row.hold_message,
        currency=row.currency,
        lines=tuple(
            OrderLine(
                line_id=line.line_id,
                sku=line.sku,
                quantity=line.quantity,
                title=line.title,
                unit_price=Money(cents=line.unit_price_cents, currency=line.currency),
                shipped_quantity=line.shipped_quantity,
                cancelled_quantity=line.cancelled_quantity,
                upstream_quantity=line.upstream_quantity,
                channel_data=line.channel_data or {},
            )
            for line in row.lines
        ),
        ship_to=Address.model_validate(row.ship_to) if row.ship_to is not None else None,
        buyer_paid=BuyerTotals.model_validate(row.buyer_paid) if row.buyer_paid else None,
        placed_at=row.placed_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        channel_data=row.channel_data or {},
        ship_by=row.ship_by,
    )


def find_order(
    session: Session, merchant_id: str, store_identity: str, external_id: str, *, lock: bool = False
) -> OrderRow | None:
    """The order a store knows as ``external_id``, if fbs has it (whatever its instance name).

    ``lock`` takes its row lock (PostgreSQL), as every writer of an order must: a change
    decided on a stale read would undo what another process just recorded.
    """
    query = select(OrderRow).where(
        OrderRow.merchant_id == merchant_id,
        OrderRow.store_identity == store_identity,
        OrderRow.external_id == external_id,
    )
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def get_order(
    session: Session, merchant_id: str, order_id: int, *, lock: bool = False
) -> OrderRow | None:
    """An order by our id, scoped to the merchant; ``lock`` takes a row lock (PostgreSQL)."""
    query = select(OrderRow).where(OrderRow.merchant_id == merchant_id, OrderRow.id == order_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def lock_orders(
    session: Session, merchant_id: str, order_ids: Sequence[int]
) -> dict[int, OrderRow]:
    """Load and lock several orders at once, in id order (PostgreSQL takes row locks)."""
    if not order_ids:
        return {}
    rows = session.scalars(
        select(OrderRow)
        .where(OrderRow.merchant_id == merchant_id, OrderRow.id.in_(sorted(set(order_ids))))
        .order_by(OrderRow.id)
        .with_for_update()
    )
    return {row.id: row for row in rows}


def list_orders(
    session: Session,
    merchant_id: str,
    *,
    statuses: Sequence[str] = (),
    limit: int | None = None,
) -> list[Order]:
    """Orders newest first, optionally only those in ``statuses``."""
    query = select(OrderRow).where(OrderRow.merchant_id == merchant_id)
    if statuses:
        query = query.where(OrderRow.status.in_(statuses))
    query = query.order_by(OrderRow.id.desc())
    if limit:
        query = query.limit(limit)
    return [order_to_domain(row) for row in session.scalars(query)]


def count_by_status(session: Session, merchant_id: str) -> dict[str, int]:
    """How many orders are in each status."""
    rows = session.execute(
        select(OrderRow.status, func.count())
        .where(OrderRow.merchant_id == merchant_id)
        .group_by(OrderRow.status)
    )
    return {status: count for status, count in rows}


def replace_lines(row: OrderRow, lines: Sequence[OrderLineRow]) -> None:
    """Swap an order's lines for a reconciled set (before anything was bought)."""
    row.lines.clear()
    row.lines.extend(lines)


def add_event(
    session: Session,
    order: OrderRow,
    event: str,
    *,
    message: str = "",
    actor: str = "system",
    data: dict[str, Any] | None = None,
    at: datetime,
) -> TimelineEventRow:
    """Append one timeline entry for ``order``."""
    row = TimelineEventRow(
        merchant_id=order.merchant_id,
        order_id=order.id,
        at=at,
        event=event,
        status=order.status,
        message=message,
        actor=actor,
        data=data or {},
    )
    session.add(row)
    return row


def event_to_domain(row: TimelineEventRow) -> TimelineEvent:
    """Build the domain view of a timeline row."""
    return TimelineEvent(
        at=row.at,
        event=row.event,
        status=OrderStatus(row.status) if row.status else None,
        message=row.message,
        actor=row.actor,
        data=row.data or {},
    )


# -- plans, money, purchase orders, shipments -----------------------------------------


def active_plan(session: Session, order_id: int) -> SourcingPlanRow | None:
    """The plan the order is being fulfilled with."""
    return session.scalars(
        select(SourcingPlanRow)
        .where(SourcingPlanRow.order_id == order_id, SourcingPlanRow.active.is_(True))
        .order_by(SourcingPlanRow.generation.desc())
    ).first()


def charges_for(session: Session, order_id: int) -> list[ChargeRow]:
    """Every charge attempt of an order, oldest first."""
    return list(
        session.scalars(
            select(ChargeRow).where(ChargeRow.order_id == order_id).order_by(ChargeRow.id)
        )
    )


def succeeded_charge(session: Session, order_id: int) -> ChargeRow | None:
    """The charge that took money for this order, if any."""
    return session.scalars(
        select(ChargeRow).where(ChargeRow.order_id == order_id, ChargeRow.status == "succeeded")
    ).first()


def charge_by_key(session: Session, merchant_id: str, key: str) -> ChargeRow | None:
    """A charge by its idempotency key."""
    return session.scalars(
        select(ChargeRow).where(
            ChargeRow.merchant_id == merchant_id, ChargeRow.idempotency_key == key
        )
    ).one_or_none()


def refund_by_key(session: Session, merchant_id: str, key: str) -> RefundRow | None:
    """A refund by its idempotency key."""
    return session.scalars(
        select(RefundRow).where(
            RefundRow.merchant_id == merchant_id, RefundRow.idempotency_key == key
        )
    ).one_or_none()


def refunds_for_charge(session: Session, charge_id: int) -> list[RefundRow]:
    """Every refund asked for on one charge."""
    return list(session.scalars(select(RefundRow).where(RefundRow.charge_id == charge_id)))


def refund_asked_cents(session: Session, charge_id: int) -> int:
    """What refunds paid or on their way take back from one charge."""
    return sum(
        refund.amount_cents
        for refund in refunds_for_charge(session, charge_id)
        if refund.status in ("pending", "succeeded")
    )


def purchase_orders_for(session: Session, order_id: int) -> list[PurchaseOrderRow]:
    """Every purchase order of an order, oldest first."""
    return list(
        session.scalars(
            select(PurchaseOrderRow)
            .where(PurchaseOrderRow.order_id == order_id)
            .order_by(PurchaseOrderRow.id)
        )
    )


def purchase_order_by_number(
    session: Session, merchant_id: str, po_number: str
) -> PurchaseOrderRow | None:
    """A purchase order by its number."""
    return session.scalars(
        select(PurchaseOrderRow).where(
            PurchaseOrderRow.merchant_id == merchant_id, PurchaseOrderRow.po_number == po_number
        )
    ).one_or_none()


def shipments_for(session: Session, order_id: int) -> list[ShipmentRow]:
    """Every parcel of an order, oldest first."""
    return list(
        session.scalars(
            select(ShipmentRow).where(ShipmentRow.order_id == order_id).order_by(ShipmentRow.id)
        )
    )


def shipment_exists(session: Session, merchant_id: str, supplier: str, shipment_id: str) -> bool:
    """Whether this parcel was already recorded."""
    return (
        session.scalars(
            select(ShipmentRow.id).where(
                ShipmentRow.merchant_id == merchant_id,
                ShipmentRow.supplier == supplier,
                ShipmentRow.shipment_id == shipment_id,
            )
        ).first()
        is not None
    )


# -- outbox -------------------------------------------------------------------------


def command_by_key(session: Session, merchant_id: str, key: str) -> OutboxCommandRow | None:
    """An outbox command by its idempotency key."""
    return session.scalars(
        select(OutboxCommandRow).where(
            OutboxCommandRow.merchant_id == merchant_id, OutboxCommandRow.idempotency_key == key
        )
    ).one_or_none()


def commands_for(
    session: Session, order_id: int, *, statuses: Sequence[str] = ()
) -> list[OutboxCommandRow]:
    """An order's commands, oldest first, optionally only in ``statuses``."""
    query = select(OutboxCommandRow).where(OutboxCommandRow.order_id == order_id)
    if statuses:
        query = query.where(OutboxCommandRow.status.in_(statuses))
    return list(session.scalars(query.order_by(OutboxCommandRow.id)))


def lock_commands(session: Session, command_ids: Sequence[int]) -> dict[int, OutboxCommandRow]:
    """Load and lock several outbox commands at once, in id order."""
    if not command_ids:
        return {}
    rows = session.scalars(
        select(OutboxCommandRow)
        .where(OutboxCommandRow.id.in_(sorted(set(command_ids))))
        .order_by(OutboxCommandRow.id)
        .with_for_update()
    )
    return {row.id: row for row in rows}


def new_lease_token() -> str:
    """A token unique to one claim of a command or a poll."""
    return uuid.uuid4().hex


def beat(
    session: Session, merchant_id: str, instances: Collection[tuple[str, str]], now: datetime
) -> None:
    """Say that a running process has these ``(kind, name)`` instances configured now."""
    if not instances:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(InstanceHeartbeatRow).values(
        [
            {"merchant_id": merchant_id, "kind": kind, "name": name, "seen_at": now}
            for kind, name in sorted(instances)
        ]
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["merchant_id", "kind", "name"],
            set_={"seen_at": statement.excluded.seen_at},
        )
    )


def claim_commands(
    session: Session,
    merchant_id: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    *,
    targets: Collection[str],
    channels: Collection[str],
    any_target_kinds: Collection[str] = (),
    abandoned_before: datetime | None = None,
) -> list[OutboxCommandRow]:
    """Lease up to ``limit`` due commands to ``owner``, each under a token of its own.

    A command is due when pending and its ``next_attempt_at`` has come, or when it is
    running under a lease that expired (its worker died). Only commands for ``targets``
    (the instances this process has configured) are taken, and commands of
    ``any_target_kinds`` (sourcing, notifications) only for orders of its ``channels``: a
    process sharing the merchant with others never takes work meant for their instances.
    With ``abandoned_before``, commands for an instance no process has mentioned in a
    heartbeat since then are taken too: their instance was removed from every config.
    PostgreSQL workers skip rows another worker has locked; SQLite serialises writers,
    so the same query is safe.
    """
    query = (
        select(OutboxCommandRow)
        .where(
            OutboxCommandRow.merchant_id == merchant_id,
            or_(
                (OutboxCommandRow.status == "pending") & (OutboxCommandRow.next_attempt_at <= now),
                (OutboxCommandRow.status == "running") & (OutboxCommandRow.lease_until <= now),
            ),
            or_(
                OutboxCommandRow.target.in_(sorted(targets)),
                (
                    OutboxCommandRow.kind.not_in(sorted(any_target_kinds))
                    & ~select(InstanceHeartbeatRow.id)
                    .where(
                        InstanceHeartbeatRow.merchant_id == merchant_id,
                        InstanceHeartbeatRow.name == OutboxCommandRow.target,
                        InstanceHeartbeatRow.seen_at >= abandoned_before,
                    )
                    .exists()
                )
                if abandoned_before is not None
                else False,
                OutboxCommandRow.kind.in_(sorted(any_target_kinds))
                & (
                    OutboxCommandRow.order_id.is_(None)
                    | select(OrderRow.id)
                    .where(
                        OrderRow.id == OutboxCommandRow.order_id,
                        or_(
                            OrderRow.channel.in_(sorted(channels)),
                            ~select(InstanceHeartbeatRow.id)
                            .where(
                                InstanceHeartbeatRow.merchant_id == merchant_id,
                                InstanceHeartbeatRow.name == OrderRow.channel,
                                InstanceHeartbeatRow.seen_at >= abandoned_before,
                            )
                            .exists()
                            if abandoned_before is not None
                            else False,
                        ),
                    )
                    .exists()
                ),
            ),
        )
        .order_by(OutboxCommandRow.next_attempt_at, OutboxCommandRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.scalars(query))
    for row in rows:
        row.status = "running"
        row.lease_owner = owner
        row.lease_token = new_lease_token()
        row.lease_until = now + lease
        row.attempts += 1
        row.updated_at = now
    return rows


def next_command_due(session: Session, merchant_id: str) -> datetime | None:
    """When the next pending command becomes due, if any is pending."""
    return session.scalar(
        select(func.min(OutboxCommandRow.next_attempt_at)).where(
            OutboxCommandRow.merchant_id == merchant_id, OutboxCommandRow.status == "pending"
        )
    )


def count_open_commands(session: Session, merchant_id: str) -> int:
    """Commands not yet finished (pending or running)."""
    return (
        session.scalar(
            select(func.count()).where(
                OutboxCommandRow.merchant_id == merchant_id,
                OutboxCommandRow.status.in_(("pending", "running")),
            )
        )
        or 0
    )


# -- instances ---------------------------------------------------------------------


def ensure_instances(
    session: Session, merchant_id: str, names: Sequence[tuple[str, str]], now: datetime
) -> None:
    """Create poll bookkeeping for configured (kind, name) pairs that have none yet."""
    existing = set(
        session.execute(
            select(InstanceStateRow.kind, InstanceStateRow.name).where(
                InstanceStateRow.merchant_id == merchant_id
            )
        )
    )
    for kind, name in names:
        if (kind, name) not in existing:
            session.add(
                InstanceStateRow(merchant_id=merchant_id, kind=kind, name=name, next_poll_at=now)
            )


def claim_due_instances(
    session: Session,
    merchant_id: str,
    owner: str,
    now: datetime,
    lease: timedelta,
    names: Sequence[tuple[str, str]],
    *,
    limit: int,
) -> list[InstanceStateRow]:
    """Lease up to ``limit`` of the configured instances whose poll is due, soonest first.

    Each claim gets a token of its own; only the holder of that token records the poll.
    The lease is what keeps two polls of one instance from ever running at once; an
    expired lease (a crashed poller) is taken over. Instances this process has not
    configured (``names``) are left to the processes that have.
    """
    if not names:
        return []
    kinds = {kind for kind, _ in names}
    configured = or_(
        *(
            (InstanceStateRow.kind == kind)
            & InstanceStateRow.name.in_(sorted(name for k, name in names if k == kind))
            for kind in sorted(kinds)
        )
    )
    query = (
        select(InstanceStateRow)
        .where(
            InstanceStateRow.merchant_id == merchant_id,
            InstanceStateRow.next_poll_at <= now,
            or_(InstanceStateRow.lease_until.is_(None), InstanceStateRow.lease_until <= now),
            configured,
        )
        .order_by(InstanceStateRow.next_poll_at, InstanceStateRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.scalars(query))
    for row in rows:
        row.lease_owner = owner
        row.lease_token = new_lease_token()
        row.lease_until = now + lease
    return rows


def renew_leases(session: Session, tokens: Collection[str], until: datetime) -> None:
    """Extend the leases of claims still in progress (``tokens``) to ``until``.

    A claim already taken over carries another token and is left alone.
    """
    if not tokens:
        return
    for table in (InstanceStateRow, OutboxCommandRow):
        session.execute(
            update(table)
            .where(table.lease_token.in_(sorted(tokens)), table.lease_until.is_not(None))
            .values(lease_until=until)
        )


def instance_state(
    session: Session, merchant_id: str, kind: str, name: str
) -> InstanceStateRow | None:
    """The poll bookkeeping of one instance."""
    return session.scalars(
        select(InstanceStateRow).where(
            InstanceStateRow.merchant_id == merchant_id,
            InstanceStateRow.kind == kind,
            InstanceStateRow.name == name,
        )
    ).one_or_none()


def request_poll(session: Session, merchant_id: str, kind: str, name: str, now: datetime) -> None:
    """Make an instance's poll due now (a webhook said something changed)."""
    session.execute(
        update(InstanceStateRow)
        .where(
            InstanceStateRow.merchant_id == merchant_id,
            InstanceStateRow.kind == kind,
            InstanceStateRow.name == name,
        )
        .values(next_poll_at=now)
    )


def list_instance_states(session: Session, merchant_id: str) -> list[InstanceStateRow]:
    """Poll bookkeeping of every instance, for status displays."""
    return list(
        session.scalars(
            select(InstanceStateRow)
            .where(InstanceStateRow.merchant_id == merchant_id)
            .order_by(InstanceStateRow.kind, InstanceStateRow.name)
        )
    )


# -- installation -------------------------------------------------------------------


def installation_id(session: Session, merchant_id: str) -> str | None:
    """The merchant's installation id in this database, if it was made."""
    return session.scalar(
        select(InstallationRow.installation_id).where(InstallationRow.merchant_id == merchant_id)
    )


def add_installation_id(session: Session, merchant_id: str, value: str, now: datetime) -> None:
    """Store the merchant's installation id (a second writer fails on the primary key)."""
    session.add(InstallationRow(merchant_id=merchant_id, installation_id=value, created_at=now))


# -- store identities ---------------------------------------------------------------


def count_in_flight(
    session: Session, store_identity: str, *, merchant_id: str | None = None
) -> dict[str, int]:
    """Unfinished orders of a store, per merchant (only ``merchant_id``'s if given)."""
    query = (
        select(OrderRow.merchant_id, func.count())
        .where(
            OrderRow.store_identity == store_identity,
            OrderRow.status.not_in([status.value for status in FINAL_STATUSES]),
        )
        .group_by(OrderRow.merchant_id)
    )
    if merchant_id is not None:
        query = query.where(OrderRow.merchant_id == merchant_id)
    return {merchant: count for merchant, count in session.execute(query)}


def channel_state_for_store(
    session: Session, merchant_id: str, store_identity: str, *, other_than: str
) -> InstanceStateRow | None:
    """The poll bookkeeping of another channel instance last seen at this store."""
    return session.scalars(
        select(InstanceStateRow).where(
            InstanceStateRow.merchant_id == merchant_id,
            InstanceStateRow.kind == "channel",
            InstanceStateRow.store_identity == store_identity,
            InstanceStateRow.name != other_than,
        )
    ).first()


def adopt_store_orders(
    session: Session, merchant_id: str, store_identity: str, *, from_identity: str
) -> None:
    """Give orders stored under ``from_identity`` the store identity now reported."""
    session.execute(
        update(OrderRow)
        .where(OrderRow.merchant_id == merchant_id, OrderRow.store_identity == from_identity)
        .values(store_identity=store_identity)
    )


def move_store_orders(
    session: Session,
    merchant_id: str,
    store_identity: str,
    channel: str,
    command_kinds: Sequence[str],
) -> int:
    """Make ``channel`` the instance of every order of this store; return how many moved.

    Unfinished commands that talk to the store (``command_kinds``) follow their orders
    from the old instance name to the new one.
    """
    moved = list(
        session.execute(
            select(OrderRow.id, OrderRow.channel).where(
                OrderRow.merchant_id == merchant_id,
                OrderRow.store_identity == store_identity,
                OrderRow.channel != channel,
            )
        )
    )
    for order_id, old_channel in moved:
        session.execute(
            update(OutboxCommandRow)
            .where(
                OutboxCommandRow.order_id == order_id,
                OutboxCommandRow.target == old_channel,
                OutboxCommandRow.kind.in_(command_kinds),
                OutboxCommandRow.status != "done",
            )
            .values(target=channel)
        )
    if moved:
        session.execute(
            update(OrderRow)
            .where(OrderRow.id.in_([order_id for order_id, _ in moved]))
            .values(channel=channel)
        )
    return len(moved)


# -- detail view --------------------------------------------------------------------


def order_detail(session: Session, merchant_id: str, order_id: int) -> OrderDetail | None:
    """Everything about one order, for ``fbs orders show`` and the console."""
    row = get_order(session, merchant_id, order_id)
    if row is None:
        return None
    plans = session.scalars(
        select(SourcingPlanRow)
        .where(SourcingPlanRow.order_id == order_id)
        .order_by(SourcingPlanRow.generation)
    )
    refunds = session.scalars(
        select(RefundRow).where(RefundRow.order_id == order_id).order_by(RefundRow.id)
    )
    events = session.scalars(
        select(TimelineEventRow)
        .where(TimelineEventRow.order_id == order_id)
        .order_by(TimelineEventRow.id)
    )
    pos = purchase_orders_for(session, order_id)
    po_numbers = {po.id: po.po_number for po in pos}
    return OrderDetail(
        order=order_to_domain(row),
        plans=[
            PlanView(
                generation=p.generation,
                active=p.active,
                currency=p.currency,
                parts_cents=p.parts_cents,
                core_charges_cents=p.core_charges_cents,
                shipping_cents=p.shipping_cents,
                tax_cents=p.tax_cents,
                total_cents=p.total_cents,
                explanation=p.explanation,
                legs=list(p.plan.get("legs", [])),
            )
            for p in plans
        ],
        charges=[
            ChargeView(
                idempotency_key=c.idempotency_key,
                gateway=c.gateway,
                status=c.status,
                currency=c.currency,
                amount_cents=c.amount_cents,
                parts_cents=c.parts_cents,
                core_charges_cents=c.core_charges_cents,
                shipping_cents=c.shipping_cents,
                tax_cents=c.tax_cents,
                refunded_cents=c.refunded_cents,
                reference=c.reference,
                error=c.error,
            )
            for c in charges_for(session, order_id)
        ],
        refunds=[
            RefundView(
                idempotency_key=r.idempotency_key,
                status=r.status,
                currency=r.currency,
                amount_cents=r.amount_cents,
                core_charges_cents=r.core_charges_cents,
                reason=r.reason,
                reference=r.reference,
            )
            for r in refunds
        ],
        purchase_orders=[
            PurchaseOrderView(
                po_number=po.po_number,
                supplier=po.supplier,
                status=po.status,
                supplier_reference=po.supplier_reference,
                currency=po.currency,
                shipping_cents=po.shipping_cents,
                tax_cents=po.tax_cents,
                lines=[
                    {
                        "line_id": line.line_id,
                        "sku": line.sku,
                        "quantity": line.quantity,
                        "unit_cost_cents": line.unit_cost_cents,
                        "core_charge_cents": line.core_charge_cents,
                        "shipped_quantity": line.shipped_quantity,
                        "cancelled_quantity": line.cancelled_quantity,
                    }
                    for line in po.lines
                ],
                error=po.error,
            )
            for po in pos
        ],
        shipments=[
            ShipmentView(
                shipment_id=s.shipment_id,
                po_number=po_numbers.get(s.purchase_order_id, ""),
                supplier=s.supplier,
                carrier=s.carrier,
                tracking_number=s.tracking_number,
                shipped_at=s.shipped_at,
                lines=list(s.lines),
                tracking_pushed=s.tracking_pushed,
            )
            for s in shipments_for(session, order_id)
        ],
        commands=[
            CommandView(
                kind=c.kind,
                target=c.target,
                idempotency_key=c.idempotency_key,
                status=c.status,
                attempts=c.attempts,
                next_attempt_at=c.next_attempt_at,
                last_error=c.last_error,
            )
            for c in commands_for(session, order_id)
        ],
        timeline=[event_to_domain(e) for e in events],
    )
