"""Base classes plugin adapters subclass.

Adapters take and return :mod:`fbs_core.domain` objects only. Their methods are
synchronous; the core runs them in a bounded thread pool. Every remote failure must be
raised as an :mod:`fbs_core.errors` type:

* :class:`~fbs_core.errors.RetriableError` for 5xx, 429 (with ``retry_after``), timeouts;
* :class:`~fbs_core.errors.AuthError` for 401/403;
* :class:`~fbs_core.errors.FatalError` (or a subclass) for anything retrying won't fix.

Anything else a plugin raises is treated as a retriable bug in that plugin: logged with
the plugin's name, retried with backoff, and eventually held for the merchant.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .domain import (
    CancelResult,
    ChargeRequest,
    ChargeResult,
    Offer,
    OrderBatch,
    PurchaseOrderAck,
    PurchaseOrderRequest,
    RefundRequest,
    RefundResult,
    ShipmentBatch,
    TrackingPush,
    TrackingResult,
)


class Adapter:
    """What every configured instance has: a name, its options and a logger."""

    kind = "adapter"

    def __init__(self, name: str, options: Any) -> None:
        self.name = name
        self.options = options
        self.log = logging.getLogger(f"fbs.{self.kind}.{name}")

    def check(self) -> None:  # noqa: B027 - an optional hook with a no-op default
        """Make one cheap authenticated call; raise an ``AdapterError`` if it fails.

        ``fbs check`` calls this for every configured instance. The default does nothing.
        """

    def close(self) -> None:  # noqa: B027
        """Release connections; called once when ``fbs run`` stops."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


@dataclass(frozen=True)
class WebhookResult:
    """How a channel answered a webhook delivery.

    ``status_code`` is returned to the sender (401 for a bad signature). ``poll_now`` asks
    the core to poll this instance at once, so the order moves in seconds.
    """

    status_code: int
    poll_now: bool = False
    message: str = ""


class OrderSource(Adapter):
    """A sales channel fbs reads paid orders from (``[channels.<name>]``)."""

    kind = "channel"

    @abc.abstractmethod
    def fetch_orders(self, cursor: str | None) -> OrderBatch:
        """Return paid orders changed since ``cursor`` (None on the first poll).

        Return every page; include orders the channel now reports cancelled so the core
        can stop them. Orders that cannot be mapped are returned as ``UnreadableOrder``.
        The returned ``cursor`` is stored only after the orders are committed.
        """

    def acknowledge_order(self, external_id: str, message: str) -> None:  # noqa: B027
        """Mark the order as being processed on the channel (e.g. an order note).

        Called once per order after fbs accepts it. Must be harmless if repeated.
        """

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        """Verify and interpret one webhook delivery; the default refuses all of them."""
        return WebhookResult(status_code=404, message="this channel does not accept webhooks")


class TrackingSink(Adapter):
    """Somewhere tracking numbers are written (usually the channel an order came from)."""

    kind = "tracking"

    @abc.abstractmethod
    def push_tracking(self, push: TrackingPush) -> TrackingResult:
        """Write one parcel's tracking to the buyer's order, unless it is already there."""


class PaymentGateway(Adapter):
    """Charges the merchant's card on file (``[payments.<name>]``)."""

    kind = "payment"

    @abc.abstractmethod
    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge the merchant off-session, idempotently on ``request.idempotency_key``.

        Raise :class:`~fbs_core.errors.PaymentDeclined` for a decline or a charge that
        needs the cardholder present.
        """

    def find_charge(self, request: ChargeRequest) -> ChargeResult | None:
        """Return the successful charge made earlier for ``request.idempotency_key``, if any.

        Called before re-sending a charge whose first attempt is older than the gateway's
        idempotency window. Return None when no such charge exists. Raise an AdapterError
        if the gateway cannot tell. The default raises NotImplementedError: the core then
        holds the order for the merchant to check by hand.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of a charge, idempotently on ``request.idempotency_key``."""

    def find_refund(self, request: RefundRequest) -> RefundResult | None:
        """Return the refund made earlier for ``request.idempotency_key``, if any.

        Called before re-sending a refund whose first attempt is older than the gateway's
        idempotency window, so a refund whose answer was lost is never paid twice. Look
        only at refunds of ``request.charge_reference``; return one that succeeded or is
        on its way (as :meth:`refund` would have). Return None when no refund was made
        under the key (a failed or cancelled one counts as none). Raise an AdapterError if
        the gateway cannot tell, for instance while a refund under the key still waits for
        an action. The default raises NotImplementedError: the core then records
        the refund as failed with the code ``refund_outcome_unknown`` and asks the
        merchant to check the gateway's dashboard instead of refunding again.
        """
        raise NotImplementedError


class Supplier(Adapter):
    """One warehouse fbs buys parts from (``[suppliers.<name>]``)."""

    kind = "supplier"

    @abc.abstractmethod
    def offers(self, skus: Sequence[str]) -> list[Offer]:
        """Return stock and cost for the part numbers this warehouse knows.

        Omit parts it does not carry; report carried parts with no stock as
        ``available=0``. Reads only: may be called any number of times.
        """

    @abc.abstractmethod
    def place_order(self, request: PurchaseOrderRequest) -> PurchaseOrderAck:
        """Send a purchase order; placing the same ``po_number`` twice must be harmless.

        Raise :class:`~fbs_core.errors.OutOfStock` if the warehouse refuses for stock.
        """

    @abc.abstractmethod
    def fetch_shipments(self, cursor: str | None) -> ShipmentBatch:
        """Return parcels shipped since ``cursor`` for purchase orders fbs placed."""

    @abc.abstractmethod
    def cancel_order(self, po_number: str) -> CancelResult:
        """Ask the warehouse to stop a purchase order; report what it actually stopped."""
