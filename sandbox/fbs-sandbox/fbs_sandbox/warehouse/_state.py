"""The warehouse's state and its shipping clock.

Orders ship by themselves ``ship_delay_seconds`` after acceptance: each request first
ships whatever is due by the imitation's clock, so no background thread runs.
``advance()`` moves that clock forward, which lets tests and the demo ship on demand.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

CARRIERS = ("UPS", "FedEx", "USPS")
TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
}


@dataclass(frozen=True)
class StockItem:
    """One part the warehouse carries: units on the shelf and what one costs."""

    quantity: int
    unit_cost_cents: int
    core_charge_cents: int = 0
    weight_grams: int = 1000


# -- state -----------------------------------------------------------------------------


@dataclass
class _Line:
    part_number: str
    quantity: int
    unit_cost_cents: int
    core_charge_cents: int
    shipped: int = 0
    cancelled: int = 0

    @property
    def open(self) -> int:
        return self.quantity - self.shipped - self.cancelled


@dataclass
class _Parcel:
    ship_at: datetime
    part_numbers: tuple[str, ...]


@dataclass
class _Order:
    sequence: int
    po_number: str
    warehouse_order_id: str
    reference: str
    body: dict[str, Any]
    created_at: datetime
    lines: list[_Line]
    parcels: list[_Parcel] = field(default_factory=list)

    @property
    def status(self) -> str:
        shipped = sum(x.shipped for x in self.lines)
        open_units = sum(x.open for x in self.lines)
        if shipped == 0:
            return "accepted" if open_units else "cancelled"
        return "partially_shipped" if open_units else "shipped"

    def to_json(self, currency: str) -> dict[str, Any]:
        return {
            "po_number": self.po_number,
            "warehouse_order_id": self.warehouse_order_id,
            "reference": self.reference,
            "status": self.status,
            "currency": currency,
            "created_at": _rfc3339(self.created_at),
            "lines": [
                {
                    "part_number": x.part_number,
                    "quantity": x.quantity,
                    "unit_cost_cents": x.unit_cost_cents,
                    "core_charge_cents": x.core_charge_cents,
                    "shipped_quantity": x.shipped,
                    "cancelled_quantity": x.cancelled,
                }
                for x in self.lines
            ],
        }


@dataclass(frozen=True)
class _Shipment:
    shipment_id: str
    po_number: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: tuple[tuple[str, int], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "shipment_id": self.shipment_id,
            "po_number": self.po_number,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "tracking_url": TRACKING_URLS[self.carrier].format(self.tracking_number),
            "shipped_at": _rfc3339(self.shipped_at),
            "lines": [{"part_number": p, "quantity": q} for p, q in self.lines],
        }


@dataclass(frozen=True)
class _Fault:
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    after_effect: bool = False
    delay_seconds: float = 0.0
    malformed: bool = False


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class _Shipping:
    """The clock, parcel planning, shipping what is due, and carrier tracking numbers."""

    ship_delay_seconds: float
    split_shipments: bool
    _lock: threading.RLock
    _orders: dict[str, _Order]
    _shipments: list[_Shipment]
    _clock_offset: timedelta
    _random: random.Random
    _prefix: str

    def now(self) -> datetime:
        """The imitation's clock: real UTC time plus everything :meth:`advance` added."""
        with self._lock:
            return datetime.now(UTC) + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward, so orders due within ``seconds`` ship on the next request."""
        with self._lock:
            self._clock_offset += timedelta(seconds=seconds)

    def _plan_parcels(self, created: datetime, part_numbers: tuple[str, ...]) -> list[_Parcel]:
        first_at = created + timedelta(seconds=self.ship_delay_seconds)
        if not self.split_shipments or len(part_numbers) < 2:
            return [_Parcel(first_at, part_numbers)]
        half = (len(part_numbers) + 1) // 2
        second_at = first_at + timedelta(seconds=max(self.ship_delay_seconds, 1.0))
        return [_Parcel(first_at, part_numbers[:half]), _Parcel(second_at, part_numbers[half:])]

    def _ship_due(self) -> None:
        now = self.now()
        due = sorted(
            (
                (parcel.ship_at, order.sequence, order, parcel)
                for order in self._orders.values()
                for parcel in order.parcels
                if parcel.ship_at <= now
            ),
            key=lambda entry: (entry[0], entry[1]),
        )
        for ship_at, _, order, parcel in due:
            order.parcels.remove(parcel)
            contents = []
            for line in order.lines:
                if line.part_number in parcel.part_numbers and line.open:
                    contents.append((line.part_number, line.open))
                    line.shipped += line.open
            if contents:
                self._record_shipment(order.po_number, ship_at, tuple(contents))

    def _record_shipment(
        self, po_number: str, shipped_at: datetime, lines: tuple[tuple[str, int], ...]
    ) -> None:
        carrier = self._random.choice(CARRIERS)
        self._shipments.append(
            _Shipment(
                shipment_id=f"SHP-{self._prefix}-{len(self._shipments) + 1:06d}",
                po_number=po_number,
                carrier=carrier,
                tracking_number=self._tracking_number(carrier),
                shipped_at=shipped_at,
                lines=lines,
            )
        )

    def _tracking_number(self, carrier: str) -> str:
        digits = "".join(self._random.choices("0123456789", k=21))
        if carrier == "FedEx":
            return digits[:12]
        if carrier == "USPS":
            body = "9400" + digits[:17]
            return body + str(_mod10(body, weights=(3, 1)))
        shipper = "".join(self._random.choices("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", k=6))
        body = shipper + "03" + digits[:7]
        return "1Z" + body + str(_ups_check_digit(body))


def _with_quantity(item: StockItem, quantity: int) -> StockItem:
    return StockItem(quantity, item.unit_cost_cents, item.core_charge_cents, item.weight_grams)


def _mod10(digits: str, *, weights: tuple[int, int]) -> int:
    """USPS check digit: weights alternate from the rightmost digit."""
    total = sum(int(d) * weights[i % 2] for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def _ups_check_digit(body: str) -> int:
    """UPS check digit over the 15 characters after ``1Z``; letters count as (ord-63) mod 10."""
    values = [int(c) if c.isdigit() else (ord(c) - 63) % 10 for c in body]
    total = sum(v * (2 if i % 2 else 1) for i, v in enumerate(values))
    return (10 - total % 10) % 10
