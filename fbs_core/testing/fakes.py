"""In-memory fake plugins of each kind that count their effects by idempotency key.

Register this module as a plugin (``[plugins] modules = ["fbs_core.testing.fakes"]``, or
``pm.register(fbs_core.testing.fakes)``) to get the types ``fake-channel``,
``fake-supplier`` and ``fake-payment``. Instances with the same ``ledger`` name share one
:class:`~fbs_core.testing.ledger.EffectLedger`; give ``ledger_path`` to keep it in a file
that survives the process (the crash tests do).

Orders come from a :class:`FakeMarket` (tests add them by hand) or are generated from
``generate``/``seed`` options, so a killed and restarted process sees the same orders.
"""

from __future__ import annotations

import functools
import random
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

import fbs_core

from ..adapters import OrderSource, PaymentGateway, Supplier, TrackingSink
from ..domain import (
    Address,
    BuyerTotals,
    CancelResult,
    ChargeRequest,
    ChargeResult,
    IncomingLine,
    IncomingOrder,
    Money,
    Offer,
    OrderBatch,
    PartNumberRules,
    PurchaseOrderAck,
    PurchaseOrderRequest,
    RefundRequest,
    RefundResult,
    ShipmentBatch,
    ShipmentLine,
    ShipmentNotice,
    TrackingPush,
    TrackingResult,
    UnreadableOrder,
)
from ..errors import FatalError, OutOfStock, PaymentDeclined
from ..ratelimits import RateLimits
from ..types import OrderSourceType, PaymentGatewayType, SupplierType
from .ledger import EffectLedger, shared_ledger

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
T = TypeVar("T")

# -- a market of orders --------------------------------------------------------------


class FakeMarket:
    """Orders a fake channel serves, in the order they were added."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.orders: list[IncomingOrder | UnreadableOrder] = []

    def add(self, order: IncomingOrder | UnreadableOrder) -> None:
        """Publish a new order, or a newer version of one already published."""
        with self._lock:
            self.orders.append(order)

    def since(self, cursor: int) -> tuple[list[IncomingOrder | UnreadableOrder], int]:
        """Orders added after position ``cursor`` and the new position."""
        with self._lock:
            return list(self.orders[cursor:]), len(self.orders)


_MARKETS: dict[str, FakeMarket] = {}
_FAILURES: dict[str, list[Exception]] = {}
_LOCK = threading.Lock()


def market(name: str) -> FakeMarket:
    """The process-wide market called ``name`` (created on first use)."""
    with _LOCK:
        return _MARKETS.setdefault(name, FakeMarket())


def fail_next(instance: str, *errors: Exception, method: str | None = None) -> None:
    """Make the next calls of the fake ``instance`` raise these errors.

    With ``method`` (e.g. ``"push_tracking"``) only calls of that adapter method fail.
    """
    with _LOCK:
        _FAILURES.setdefault(f"{instance}.{method or '*'}", []).extend(errors)


class AfterEffect(Exception):  # noqa: N818 - a wrapper, not an error of its own
    """Queue this with :func:`fail_next` to perform the effect, then raise ``error``.

    It is the lost-answer case: the remote did the work but the reply never arrived.
    """

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _next_failure(instance: str, method: str) -> Exception | None:
    with _LOCK:
        for key in (f"{instance}.{method}", f"{instance}.*"):
            queue = _FAILURES.get(key)
            if queue:
                return queue.pop(0)
    return None


def _faults(method: Callable[..., T]) -> Callable[..., T]:
    """Let :func:`fail_next` make an adapter method fail before (or after) its effect."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> T:
        failure = _next_failure(self.name, method.__name__)
        if failure is not None and not isinstance(failure, AfterEffect):
            raise failure
        result = method(self, *args, **kwargs)
        if isinstance(failure, AfterEffect):
            raise failure.error
        return result

    return wrapper


def clear_failures() -> None:
    """Forget every queued failure."""
    with _LOCK:
        _FAILURES.clear()


def reset() -> None:
    """Forget every market and queued failure (between tests)."""
    with _LOCK:
        _MARKETS.clear()
        _FAILURES.clear()


# -- realistic generated orders -------------------------------------------------------

CATALOG: dict[str, tuple[str, int, int, int]] = {
    # sku: (title, buyer price cents, core charge cents, weight grams)
    "BRK-PAD-F150": ("Front brake pads, F-150 2015-2020", 6499, 0, 1800),
    "ALT-REMAN-CIV": ("Remanufactured alternator, Civic 2016-2021", 18999, 4500, 6200),
    "OIL-FLT-5W30": ("Oil filter, 5W-30 engines", 1299, 0, 400),
    "SPK-PLG-IR4": ("Iridium spark plugs (set of 4)", 3999, 0, 300),
    "WPR-BLD-22": ("22 in. wiper blade", 1899, 0, 350),
    "RAD-CAM-18": ("Radiator, Camry 2018-2023", 21999, 0, 7800),
    "STR-REMAN-SIL": ("Remanufactured starter, Silverado 2014-2019", 15999, 3500, 5400),
    "AIR-FLT-CRV": ("Engine air filter, CR-V 2017-2022", 2199, 0, 500),
}

BUYERS: tuple[tuple[str, str, str, str], ...] = (
    ("Austin", "TX", "78701", "100 Congress Ave"),
    ("Seattle", "WA", "98101", "400 Pine St"),
    ("New York", "NY", "10001", "350 5th Ave"),
    ("Chicago", "IL", "60601", "200 E Randolph St"),
    ("Denver", "CO", "80202", "1600 Champa St"),
    ("Atlanta", "GA", "30303", "55 Trinity Ave SW"),
    ("Phoenix", "AZ", "85004", "200 W Washington St"),
    ("Boston", "MA", "02108", "24 Beacon St"),
)


def generated_order(index: int, seed: int) -> IncomingOrder:
    """The ``index``-th order of a deterministic stream of realistic orders."""
    rng = random.Random(f"{seed}:{index}")
    city, state, zip_code, street = rng.choice(BUYERS)
    skus = rng.sample(sorted(CATALOG), k=rng.choice((1, 1, 1, 2, 2, 3)))
    lines = []
    for position, sku in enumerate(skus, start=1):
        title, price, _, _ = CATALOG[sku]
        lines.append(
            IncomingLine(
                line_id=f"{index}-{position}",
                sku=sku,
                quantity=rng.choice((1, 1, 1, 2)),
                title=title,
                unit_price=Money(cents=price),
            )
        )
    # the buyer pays the core deposit of a remanufactured part on top of its price
    items = sum((line.unit_price.cents + CATALOG[line.sku][2]) * line.quantity for line in lines)
    placed = EPOCH + timedelta(minutes=index)
    return IncomingOrder(
        external_id=f"G{seed}-{index}",
        number=f"#{1000 + index}",
        placed_at=placed,
        updated_at=placed,
        lines=tuple(lines),
        ship_to=Address(
            name=f"Buyer {index}",
            line1=street,
            city=city,
            region=state,
            postal_code=zip_code,
            country="US",
        ),
        buyer_paid=BuyerTotals(
            items=Money(cents=items),
            shipping=Money(cents=1500),
            tax=Money(cents=0),
            total=Money(cents=items + 1500),
        ),
    )


def make_order(
    external_id: str,
    lines: Sequence[tuple[str, int]],
    *,
    ship_to: Address | None = None,
    minute: int = 0,
    **changes: Any,
) -> IncomingOrder:
    """An order of ``(sku, quantity)`` lines at catalog prices, shipped to Austin by default.

    ``minute`` sets its modification stamp, so a later version of the same order can be
    published with a larger one. Any other ``IncomingOrder`` field can be overridden.
    """
    incoming_lines = tuple(
        IncomingLine(
            line_id=f"{external_id}-{position}",
            sku=sku,
            quantity=quantity,
            title=CATALOG.get(sku, ("Unknown part", 1000, 0, 0))[0],
            unit_price=Money(cents=CATALOG.get(sku, ("", 1000, 0, 0))[1]),
        )
        for position, (sku, quantity) in enumerate(lines, start=1)
    )
    items = sum(
        (line.unit_price.cents + CATALOG.get(line.sku, ("", 0, 0, 0))[2]) * max(line.quantity, 0)
        for line in incoming_lines
    )
    stamp = EPOCH + timedelta(minutes=minute)
    fields: dict[str, Any] = {
        "external_id": external_id,
        "number": f"#{external_id}",
        "placed_at": EPOCH,
        "updated_at": stamp,
        "lines": incoming_lines,
        "ship_to": ship_to
        or Address(
            name="Pat Buyer",
            line1="100 Congress Ave",
            city="Austin",
            region="TX",
            postal_code="78701",
            country="US",
        ),
        "buyer_paid": BuyerTotals(
            items=Money(cents=items),
            shipping=Money(cents=1500),
            tax=Money(cents=0),
            total=Money(cents=items + 1500),
        ),
    }
    fields.update(changes)
    return IncomingOrder(**fields)


def generated_stock(seed: int, supplier_index: int) -> dict[str, dict[str, int]]:
    """A warehouse's deterministic stock of every catalog part, at varied costs."""
    rng = random.Random(f"stock:{seed}:{supplier_index}")
    stock = {}
    for sku, (_, price, core, weight) in CATALOG.items():
        stock[sku] = {
            "quantity": 100_000,
            "unit_cost_cents": int(price * rng.uniform(0.55, 0.75)),
            "core_charge_cents": core,
            "weight_grams": weight,
        }
    return stock


# -- options --------------------------------------------------------------------------


class LedgerOptions(BaseModel):
    """Where a fake keeps its effects."""

    model_config = ConfigDict(extra="forbid")

    ledger: str = "default"
    ledger_path: str | None = None

    def open_ledger(self) -> EffectLedger:
        """The ledger these options name."""
        return shared_ledger(self.ledger, self.ledger_path)


class FakeChannelOptions(LedgerOptions):
    """Options of ``fake-channel``."""

    market: str = "default"
    store: str = ""
    """The store this channel says it reads (``fake:<store>``); the market's name if empty."""
    generate: int = Field(default=0, ge=0)
    """Serve this many generated orders instead of a market's."""
    seed: int = 0
    page_size: int = Field(default=500, ge=1)
    requests_per_second: float | None = None
    """Declare this request rate to the core (tests of rate limiting)."""
    max_concurrency: int | None = None
    """Declare this concurrency cap to the core."""


class StockItem(BaseModel):
    """One part a fake warehouse stocks."""

    model_config = ConfigDict(extra="forbid")

    quantity: int
    unit_cost_cents: int
    core_charge_cents: int = 0
    weight_grams: int = 1000


class FakeSupplierOptions(LedgerOptions):
    """Options of ``fake-supplier``."""

    ship_from_zip: str = "07102"
    stock: dict[str, StockItem] = Field(default_factory=dict)
    generated_stock_seed: int | None = None
    """Stock every catalog part with costs drawn from this seed."""
    ship_immediately: bool = True
    """Ship each purchase order as soon as it is placed; else call :func:`ship`."""
    billed_unit_cost_cents: dict[str, int] = Field(default_factory=dict)
    """Part number → the unit cost the warehouse bills on acceptance (a repricing)."""
    max_part_number_length: int | None = None
    """Longest part number this warehouse's API carries (None: no limit)."""


class FakePaymentOptions(LedgerOptions):
    """Options of ``fake-payment``."""

    decline: dict[str, str] = Field(default_factory=dict)
    """Order reference → decline code, for orders whose charge is declined."""


# -- adapters -------------------------------------------------------------------------


class FakeChannel(OrderSource, TrackingSink):
    """Serves orders from a market (or a generated stream) and records tracking pushes."""

    kind = "channel"

    def __init__(self, name: str, options: FakeChannelOptions) -> None:
        super().__init__(name, options)
        self.ledger = options.open_ledger()

    def rate_limits(self) -> RateLimits:  # noqa: D102
        return RateLimits(
            requests_per_second=self.options.requests_per_second,
            burst=1,
            max_concurrency=self.options.max_concurrency,
        )

    def rate_limit_key(self) -> str:  # noqa: D102
        return f"fake:{self.options.store or self.options.market}"

    def store_identity(self) -> str:  # noqa: D102
        # only failures queued for this method: the store's name is not a call to the store
        with _LOCK:
            queue = _FAILURES.get(f"{self.name}.store_identity")
            failure = queue.pop(0) if queue else None
        if failure is not None:
            raise failure
        return f"fake:{self.options.store or self.options.market}"

    @_faults
    def fetch_orders(self, cursor: str | None) -> OrderBatch:  # noqa: D102
        start = int(cursor or 0)
        opts: FakeChannelOptions = self.options
        if opts.generate:
            end = min(start + opts.page_size, opts.generate)
            orders: Sequence[IncomingOrder | UnreadableOrder] = [
                generated_order(i, opts.seed) for i in range(start, end)
            ]
            more = end < opts.generate
        else:
            orders, end = market(opts.market).since(start)
            more = False
        return OrderBatch(orders=tuple(orders), cursor=str(end), more=more)

    @_faults
    def acknowledge_order(self, external_id: str, message: str) -> None:  # noqa: D102
        self.ledger.record(
            "acknowledge",
            f"{self.name}:{external_id}",
            target=self.name,
            payload={"message": message},
            result={},
        )

    @_faults
    def push_tracking(self, push: TrackingPush) -> TrackingResult:  # noqa: D102
        effect, created = self.ledger.record(
            "tracking",
            push.idempotency_key,
            target=self.name,
            payload=push.model_dump(mode="json"),
            result={"reference": f"trk-{push.tracking_number}"},
        )
        return TrackingResult(reference=effect.result["reference"], already_present=not created)


class FakeSupplier(Supplier):
    """A warehouse with fixed stock that records purchase orders and ships them."""

    kind = "supplier"

    def __init__(self, name: str, options: FakeSupplierOptions) -> None:
        super().__init__(name, options)
        self.ledger = options.open_ledger()
        stock = dict(options.stock)
        if options.generated_stock_seed is not None:
            stock = {
                sku: StockItem(**item)
                for sku, item in generated_stock(
                    options.generated_stock_seed, zlib.crc32(name.encode()) % 97
                ).items()
            } | stock
        self.stock = stock
        self.part_numbers = PartNumberRules(max_length=options.max_part_number_length)

    @_faults
    def offers(self, skus: Sequence[str]) -> list[Offer]:  # noqa: D102
        unsupported = [sku for sku in skus if self.part_numbers.problem(sku)]
        if unsupported:
            raise FatalError(
                f"part number {unsupported[0]!r} is longer than "
                f"{self.options.max_part_number_length}",
                code="invalid_request",
            )
        return [
            Offer(
                supplier=self.name,
                sku=sku,
                available=self.stock[sku].quantity,
                unit_cost=Money(cents=self.stock[sku].unit_cost_cents),
                core_charge=Money(cents=self.stock[sku].core_charge_cents),
                ship_from_zip=self.options.ship_from_zip,
                weight_grams=self.stock[sku].weight_grams,
            )
            for sku in skus
            if sku in self.stock
        ]

    @_faults
    def place_order(self, request: PurchaseOrderRequest) -> PurchaseOrderAck:  # noqa: D102
        skus = [line.sku for line in request.lines]
        if len(set(skus)) != len(skus):
            # the fbs warehouse API's rule: a part number appears once per purchase order
            raise FatalError("A part number appears on two lines.", code="invalid_request")
        unsupported = [sku for sku in skus if self.part_numbers.problem(sku)]
        if unsupported:
            raise FatalError(
                f"part number {unsupported[0]!r} is longer than "
                f"{self.options.max_part_number_length}",
                code="invalid_request",
            )
        short = [
            line.sku
            for line in request.lines
            if self.stock.get(line.sku) is None or self.stock[line.sku].quantity < line.quantity
        ]
        if short:
            raise OutOfStock(f"not enough stock of {', '.join(short)}", skus=tuple(short))
        effect, _ = self.ledger.record(
            "purchase_order",
            request.po_number,
            target=self.name,
            payload=request.model_dump(mode="json"),
            result={"supplier_reference": f"{self.name.upper()}-{request.po_number}"},
        )
        if self.options.ship_immediately:
            ship(self.ledger, self.name, request.po_number)
        billed = self.options.billed_unit_cost_cents
        return PurchaseOrderAck(
            po_number=request.po_number,
            supplier_reference=effect.result["supplier_reference"],
            lines=tuple(
                line.model_copy(
                    update={
                        "unit_cost": Money(cents=billed[line.sku], currency=line.unit_cost.currency)
                    }
                )
                if line.sku in billed
                else line
                for line in request.lines
            ),
        )

    @_faults
    def fetch_shipments(self, cursor: str | None) -> ShipmentBatch:  # noqa: D102
        after = int(cursor or 0)
        notices = []
        last = after
        for effect in self.ledger.effects("shipment", target=self.name, after_seq=after):
            notices.append(ShipmentNotice.model_validate(effect.payload))
            last = effect.seq
        return ShipmentBatch(shipments=tuple(notices), cursor=str(last))

    @_faults
    def cancel_order(  # noqa: D102
        self, po_number: str, keep: Mapping[str, int] | None = None
    ) -> CancelResult:
        po = self.ledger.get("purchase_order", po_number)
        if po is None:
            return CancelResult(po_number=po_number, cancelled=(), message="no such order")
        ordered = Counter[str]()
        for line in po.payload["lines"]:
            ordered[line["sku"]] += line["quantity"]
        shipped = _shipped_units(self.ledger, self.name, po_number)
        cancelled = cancelled_units(self.ledger, self.name, po_number)
        stopping = {}
        for sku, quantity in ordered.items():
            if keep is not None and sku not in keep:
                continue
            wanted = keep[sku] if keep is not None else 0
            open_units = quantity - shipped[sku] - cancelled[sku]
            units = max(0, min(open_units, quantity - cancelled[sku] - wanted))
            if units:
                stopping[sku] = units
        if stopping:
            key = po_number if keep is None else f"{po_number}@{sorted(keep.items())}"
            self.ledger.record(
                "po_cancel",
                key,
                target=self.name,
                payload={"keep": dict(keep)} if keep is not None else {},
                result={"lines": [{"sku": k, "quantity": v} for k, v in stopping.items()]},
            )
        so_far = cancelled_units(self.ledger, self.name, po_number)
        lines = tuple(ShipmentLine(sku=sku, quantity=n) for sku, n in so_far.items() if n)
        return CancelResult(
            po_number=po_number, cancelled=lines, message="" if stopping else "already shipped"
        )


def cancelled_units(ledger: EffectLedger, supplier: str, po_number: str) -> Counter[str]:
    """Units of each part the fake warehouse cancelled on a purchase order so far."""
    units = Counter[str]()
    for effect in ledger.effects("po_cancel", target=supplier):
        if effect.key == po_number or effect.key.startswith(f"{po_number}@"):
            for line in effect.result["lines"]:
                units[line["sku"]] += line["quantity"]
    return units


def _shipped_units(ledger: EffectLedger, supplier: str, po_number: str) -> Counter[str]:
    units = Counter[str]()
    for effect in ledger.effects("shipment", target=supplier):
        if effect.payload["po_number"] == po_number:
            for line in effect.payload["lines"]:
                units[line["sku"]] += line["quantity"]
    return units


def ship(ledger: EffectLedger, supplier: str, po_number: str) -> None:
    """Ship a whole purchase order placed at ``supplier`` (once; unless it was cancelled)."""
    po = ledger.get("purchase_order", po_number)
    if po is None or ledger.get("po_cancel", po_number) is not None:
        return
    cancelled = cancelled_units(ledger, supplier, po_number)
    remaining = Counter[str]()
    for line in po.payload["lines"]:
        remaining[line["sku"]] += line["quantity"]
    remaining.subtract(cancelled)
    lines = tuple(ShipmentLine(sku=sku, quantity=n) for sku, n in remaining.items() if n > 0)
    if not lines:
        return
    _record_parcel(
        ledger,
        supplier,
        po_number,
        f"S-{po_number}",
        lines,
        key=f"{supplier}:{po_number}",
        tracking_seed=po_number,
    )


def ship_part(
    ledger: EffectLedger, supplier: str, po_number: str, parcel: int, quantities: dict[str, int]
) -> None:
    """Ship one parcel of a purchase order: ``quantities`` (part number → units) of it.

    ``parcel`` numbers the parcels of one PO; shipping the same number twice ships once.
    """
    if ledger.get("purchase_order", po_number) is None:
        return
    _record_parcel(
        ledger,
        supplier,
        po_number,
        f"S-{po_number}-{parcel}",
        tuple(ShipmentLine(sku=sku, quantity=qty) for sku, qty in quantities.items()),
        key=f"{supplier}:{po_number}:{parcel}",
        tracking_seed=f"{po_number}-{parcel}",
    )


def _record_parcel(
    ledger: EffectLedger,
    supplier: str,
    po_number: str,
    shipment_id: str,
    lines: tuple[ShipmentLine, ...],
    *,
    key: str,
    tracking_seed: str,
) -> None:
    notice = ShipmentNotice(
        shipment_id=shipment_id,
        po_number=po_number,
        carrier="UPS",
        tracking_number=f"1Z{zlib.crc32(tracking_seed.encode()) * 7919 % 10**12:012d}",
        shipped_at=datetime.now(UTC),
        lines=lines,
    )
    ledger.record(
        "shipment", key, target=supplier, payload=notice.model_dump(mode="json"), result={}
    )


class FakePayment(PaymentGateway):
    """Charges and refunds recorded by idempotency key, replaying the first result."""

    kind = "payment"

    def __init__(self, name: str, options: FakePaymentOptions) -> None:
        super().__init__(name, options)
        self.ledger = options.open_ledger()

    @_faults
    def charge(self, request: ChargeRequest) -> ChargeResult:  # noqa: D102
        decline = self.options.decline.get(request.order_reference)
        payload = {"amount_cents": request.amount.cents, "currency": request.amount.currency}
        result: dict[str, Any] = {"reference": f"pi_{request.idempotency_key}"}
        if decline:
            result = {"declined": decline}
        effect, _ = self.ledger.record(
            "charge" if not decline else "declined_charge",
            request.idempotency_key,
            target=self.name,
            payload=payload,
            result=result,
        )
        if effect.payload != payload:
            raise FatalError(
                "idempotency key reused with different parameters", code="idempotency_conflict"
            )
        if "declined" in effect.result:
            raise PaymentDeclined(
                f"The card on file was declined ({decline}).", code=str(effect.result["declined"])
            )
        return ChargeResult(reference=effect.result["reference"], amount=request.amount)

    @_faults
    def find_charge(self, request: ChargeRequest) -> ChargeResult | None:  # noqa: D102
        effect = self.ledger.get("charge", request.idempotency_key)
        if effect is None:
            return None
        return ChargeResult(
            reference=effect.result["reference"],
            amount=Money(cents=effect.payload["amount_cents"], currency=effect.payload["currency"]),
        )

    @_faults
    def refund(self, request: RefundRequest) -> RefundResult:  # noqa: D102
        effect, _ = self.ledger.record(
            "refund",
            request.idempotency_key,
            target=self.name,
            payload={"amount_cents": request.amount.cents, "charge": request.charge_reference},
            result={"reference": f"re_{request.idempotency_key}"},
        )
        return RefundResult(reference=effect.result["reference"], amount=request.amount)

    @_faults
    def find_refund(self, request: RefundRequest) -> RefundResult | None:  # noqa: D102
        effect = self.ledger.get("refund", request.idempotency_key)
        if effect is None or effect.payload["charge"] != request.charge_reference:
            return None
        return RefundResult(
            reference=effect.result["reference"],
            amount=Money(cents=effect.payload["amount_cents"], currency=request.amount.currency),
        )


# -- registration ---------------------------------------------------------------------


@fbs_core.hookimpl
def fbs_order_sources() -> Iterator[OrderSourceType]:
    """Register ``fake-channel``."""
    yield OrderSourceType(
        name="fake-channel",
        options_model=FakeChannelOptions,
        factory=FakeChannel,
        description="In-memory channel that counts tracking pushes (tests)",
    )


@fbs_core.hookimpl
def fbs_suppliers() -> Iterator[SupplierType]:
    """Register ``fake-supplier``."""
    yield SupplierType(
        name="fake-supplier",
        options_model=FakeSupplierOptions,
        factory=FakeSupplier,
        description="In-memory warehouse that counts purchase orders (tests)",
    )


@fbs_core.hookimpl
def fbs_payment_gateways() -> Iterator[PaymentGatewayType]:
    """Register ``fake-payment``."""
    yield PaymentGatewayType(
        name="fake-payment",
        options_model=FakePaymentOptions,
        factory=FakePayment,
        description="In-memory gateway that counts charges and refunds (tests)",
    )
