"""The console's reads, each scoped to one merchant.

Every function takes the signed-in user's ``merchant_id`` and filters on it, so an id
of another merchant's order finds nothing (the pages answer 404). Orders come back as
the domain objects :mod:`fbs_core.db.repository` builds, so the CSV export and
``fbs orders list --json`` describe an order with the same fields.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import String, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from ..db import repository as repo
from ..db.models import (
    ChargeRow,
    InstanceStateRow,
    OrderLineRow,
    OrderRow,
    PurchaseOrderRow,
    RefundRow,
    ShipmentRow,
)
from ..domain import FINAL_STATUSES, Order, OrderStatus
from ..domain.views import OrderDetail

PAGE_SIZE = 50
"""Orders on one page of the orders list."""
CHART_DAYS = 30


@dataclass(frozen=True)
class OrderFilters:
    """What the orders page was asked to show (all optional)."""

    status: str = ""
    hold_reason: str = ""
    channel: str = ""
    warehouse: str = ""
    placed_from: date | None = None
    placed_to: date | None = None
    search: str = ""

    @property
    def any(self) -> bool:
        """Whether anything narrows the list."""
        return any(
            (
                self.status,
                self.hold_reason,
                self.channel,
                self.warehouse,
                self.placed_from,
                self.placed_to,
                self.search,
            )
        )


@dataclass(frozen=True)
class OrderPage:
    """One page of orders, newest first, and whether there are more."""

    orders: list[Order]
    page: int
    has_next: bool


def _identified(session: Session, merchant_id: str, term: str) -> list[int]:
    """Orders ``term`` names exactly: store order number, SKU, PO or tracking number.

    Each is an indexed lookup; only when none matches does the search read buyer names
    (a scan), so a number pasted from an email is found at once on any number of orders.
    """
    found: set[int] = set()
    for query in (
        select(OrderRow.id).where(OrderRow.merchant_id == merchant_id, OrderRow.number == term),
        select(OrderLineRow.order_id).where(
            OrderLineRow.merchant_id == merchant_id, OrderLineRow.sku == term
        ),
        select(PurchaseOrderRow.order_id).where(
            PurchaseOrderRow.merchant_id == merchant_id, PurchaseOrderRow.po_number == term
        ),
        select(ShipmentRow.order_id).where(
            ShipmentRow.merchant_id == merchant_id, ShipmentRow.tracking_number == term
        ),
    ):
        found.update(session.scalars(query))
    return sorted(found)


def _filtered(session: Session, merchant_id: str, filters: OrderFilters):  # noqa: ANN202 - a Select
    query = select(OrderRow).where(OrderRow.merchant_id == merchant_id)
    if filters.status:
        query = query.where(OrderRow.status == filters.status)
    if filters.hold_reason:
        query = query.where(OrderRow.hold_reason == filters.hold_reason)
    if filters.channel:
        query = query.where(OrderRow.channel == filters.channel)
    if filters.warehouse:
        query = query.where(
            exists().where(
                PurchaseOrderRow.order_id == OrderRow.id,
                PurchaseOrderRow.supplier == filters.warehouse,
            )
        )
    if filters.placed_from:
        query = query.where(
            OrderRow.placed_at >= datetime.combine(filters.placed_from, time.min, tzinfo=UTC)
        )
    if filters.placed_to:
        end = datetime.combine(filters.placed_to + timedelta(days=1), time.min, tzinfo=UTC)
        query = query.where(OrderRow.placed_at < end)
    term = filters.search.strip()
    if term:
        ids = _identified(session, merchant_id, term)
        if ids:
            query = query.where(OrderRow.id.in_(ids))
        else:
            like = f"%{_escape_like(term.lower())}%"
            query = query.where(
                or_(
                    OrderRow.external_id == term,
                    func.lower(cast(OrderRow.ship_to, String)).like(like, escape="\\"),
                )
            )
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_orders(
    session: Session, merchant_id: str, filters: OrderFilters, page: int = 1
) -> OrderPage:
    """A page of the merchant's orders matching ``filters``, newest first."""
    page = max(page, 1)
    query = (
        _filtered(session, merchant_id, filters)
        .order_by(OrderRow.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    rows = list(session.scalars(query))
    return OrderPage(
        orders=[repo.order_to_domain(row) for row in rows[:PAGE_SIZE]],
        page=page,
        has_next=len(rows) > PAGE_SIZE,
    )


def all_orders(session: Session, merchant_id: str, filters: OrderFilters) -> list[Order]:
    """Every order matching ``filters``, newest first (the CSV export)."""
    query = _filtered(session, merchant_id, filters).order_by(OrderRow.id.desc())
    return [repo.order_to_domain(row) for row in session.scalars(query)]


def order_detail(session: Session, merchant_id: str, order_id: int) -> OrderDetail | None:
    """Everything about one of the merchant's orders (None for anyone else's)."""
    return repo.order_detail(session, merchant_id, order_id)


def merchant_order_ids(session: Session, merchant_id: str, order_ids: list[int]) -> list[int]:
    """The ids among ``order_ids`` that are the merchant's."""
    if not order_ids:
        return []
    return list(
        session.scalars(
            select(OrderRow.id).where(
                OrderRow.merchant_id == merchant_id, OrderRow.id.in_(order_ids)
            )
        )
    )


@dataclass(frozen=True)
class FilterChoices:
    """Values the orders page offers in its filter menus."""

    hold_reasons: list[str]
    channels: list[str]
    warehouses: list[str]


def filter_choices(session: Session, merchant_id: str) -> FilterChoices:
    """Hold reasons of the merchant's held and rejected orders, and its instances.

    Read from the held/rejected orders (by the status index) and from the instances'
    poll records, never by scanning every order.
    """
    reasons = session.scalars(
        select(OrderRow.hold_reason)
        .where(
            OrderRow.merchant_id == merchant_id,
            OrderRow.status.in_((OrderStatus.held.value, OrderStatus.rejected.value)),
        )
        .distinct()
    )
    instances = repo.list_instance_states(session, merchant_id)
    return FilterChoices(
        hold_reasons=sorted({r for r in reasons if r}),
        channels=sorted(s.name for s in instances if s.kind == "channel"),
        warehouses=sorted(s.name for s in instances if s.kind == "supplier"),
    )


def held_by_reason(session: Session, merchant_id: str) -> dict[str, list[Order]]:
    """The merchant's held orders grouped by hold reason, oldest first in each group."""
    rows = session.scalars(
        select(OrderRow)
        .where(OrderRow.merchant_id == merchant_id, OrderRow.status == OrderStatus.held.value)
        .order_by(OrderRow.hold_reason, OrderRow.id)
    )
    groups: dict[str, list[Order]] = defaultdict(list)
    for row in rows:
        groups[row.hold_reason or "unknown"].append(repo.order_to_domain(row))
    return dict(groups)


@dataclass
class MoneyToday:
    """Money of the day in cents, one currency (the merchant's orders are in one)."""

    currency: str = "USD"
    buyer_paid_cents: int = 0
    charged_cents: int = 0
    refunded_cents: int = 0

    @property
    def margin_cents(self) -> int:
        """What buyers paid less what the card paid after refunds."""
        return self.buyer_paid_cents - self.charged_cents + self.refunded_cents


@dataclass
class Overview:
    """The numbers the overview page shows."""

    today: dict[str, int]
    week: dict[str, int]
    held: dict[str, int]
    money: MoneyToday
    chart: list[tuple[date, dict[str, int]]]
    instances: list[InstanceStateRow] = field(default_factory=list)


CHART_SERIES = ("completed", "cancelled", "rejected", "in flight")
"""The chart's stacks: each final status, and every order not final yet."""


def overview(session: Session, merchant_id: str, now: datetime) -> Overview:
    """Counts, held reasons, today's money, the 30-day chart and the instances."""
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start_of_week = start_of_day - timedelta(days=start_of_day.weekday())
    chart_start = start_of_day - timedelta(days=CHART_DAYS - 1)

    def by_status(since: datetime) -> dict[str, int]:
        rows = session.execute(
            select(OrderRow.status, func.count())
            .where(OrderRow.merchant_id == merchant_id, OrderRow.created_at >= since)
            .group_by(OrderRow.status)
        )
        return dict(sorted((status, count) for status, count in rows))

    held = session.execute(
        select(OrderRow.hold_reason, func.count())
        .where(OrderRow.merchant_id == merchant_id, OrderRow.status == OrderStatus.held.value)
        .group_by(OrderRow.hold_reason)
    )
    money = MoneyToday()
    for paid, currency in session.execute(
        select(OrderRow.buyer_paid, OrderRow.currency).where(
            OrderRow.merchant_id == merchant_id, OrderRow.created_at >= start_of_day
        )
    ):
        money.currency = currency
        if paid:
            money.buyer_paid_cents += int(paid.get("total", {}).get("cents", 0))
    money.charged_cents = int(
        session.scalar(
            select(func.coalesce(func.sum(ChargeRow.amount_cents), 0)).where(
                ChargeRow.merchant_id == merchant_id,
                ChargeRow.status == "succeeded",
                ChargeRow.created_at >= start_of_day,
            )
        )
        or 0
    )
    money.refunded_cents = int(
        session.scalar(
            select(func.coalesce(func.sum(RefundRow.amount_cents), 0)).where(
                RefundRow.merchant_id == merchant_id,
                RefundRow.status == "succeeded",
                RefundRow.created_at >= start_of_day,
            )
        )
        or 0
    )
    days: dict[date, Counter[str]] = {
        (chart_start + timedelta(days=n)).date(): Counter() for n in range(CHART_DAYS)
    }
    for created, status in session.execute(
        select(OrderRow.created_at, OrderRow.status).where(
            OrderRow.merchant_id == merchant_id, OrderRow.created_at >= chart_start
        )
    ):
        series = status if OrderStatus(status) in FINAL_STATUSES else "in flight"
        if created.date() in days:
            days[created.date()][series] += 1
    return Overview(
        today=by_status(start_of_day),
        week=by_status(start_of_week),
        held={reason or "unknown": count for reason, count in held},
        money=money,
        chart=[(day, dict(counts)) for day, counts in sorted(days.items())],
        instances=repo.list_instance_states(session, merchant_id),
    )
