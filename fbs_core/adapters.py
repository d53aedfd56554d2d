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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .domain import (
    CancelResult,
    ChargeRequest,
    ChargeResult,
    Offer,
    OrderBatch,
    PartNumberRules,
    PurchaseOrderAck,
    PurchaseOrderRequest,
    RefundRequest,
    RefundResult,
    ShipmentBatch,
    TrackingPush,
    TrackingResult,
)
from .domain.privacy import PrivacyRequest
from .ratelimits import UNLIMITED, Limiter, RateLimits

SECRET_STATE_SUFFIXES = ("_secret", "_token")
"""State keys ending so hold secrets (OAuth refresh tokens, signing secrets)."""
MASK = "***"


class Adapter:
    """What every configured instance has: a name, its options and a logger."""

    kind = "adapter"

    def __init__(self, name: str, options: Any) -> None:
        self.name = name
        self.options = options
        self.log = logging.getLogger(f"fbs.{self.kind}.{name}")

    rate_limiter: Limiter | None = None
    """Set by the core when the adapter declares limits; spend cost points through it."""

    state: Mapping[str, str] = MappingProxyType({})
    """The instance's durable key-value state, read-only, loaded by the core before each
    poll. Change it by returning ``state`` in the poll's batch: the keys are saved in the
    same transaction as the batch and its cursor, and a failed poll keeps the old state."""

    secret_state_keys: frozenset[str] = frozenset()
    """State keys whose values are secret, besides those ending in ``_secret``/``_token``:
    their values are masked in logs, errors and every display of the state."""

    def is_secret_state_key(self, key: str) -> bool:
        """Whether the value under ``key`` must never be shown."""
        return key in self.secret_state_keys or key.endswith(SECRET_STATE_SUFFIXES)

    def masked_state(self) -> dict[str, str]:
        """The state as it may be shown: secret values replaced by ``***``."""
        return {
            key: MASK if self.is_secret_state_key(key) else value
            for key, value in self.state.items()
        }

    def rate_limits(self) -> RateLimits:
        """What the remote allows this instance's account; the default is no limit.

        The core enforces requests per second, the daily quota and the concurrency cap on
        every call; cost points are spent by the adapter through ``self.rate_limiter``.
        """
        return UNLIMITED

    def rate_limit_key(self) -> str:
        """The remote account the limits belong to; instances sharing it share limits.

        The default is the instance name; a channel returns its store (a shop domain).
        """
        return self.name

    def check(self) -> str | None:
        """Make one cheap authenticated call; raise an ``AdapterError`` if it fails.

        ``fbs check`` calls this for every configured instance and shows what it returns
        beside "ok": a short note the merchant should see (today's API calls against a
        daily limit, a credential that expires soon), never a secret. The default does
        nothing.
        """
        return None

    def close(self) -> None:  # noqa: B027
        """Release connections; called once when ``fbs run`` stops."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


@dataclass(frozen=True)
class WebhookRequest:
    """One delivery to ``/webhooks/<instance>[/<path>]`` or ``/app-webhooks/<type>[/<path>]``.

    ``method`` is ``GET`` or ``POST``: some channels verify an endpoint with a GET
    challenge before they send anything. ``headers`` has lower-cased names; ``body`` is
    the raw bytes the signature was computed over.
    """

    method: str
    path: str = ""
    """What follows the instance (or type) in the URL, without the leading slash."""
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class WebhookResult:
    """How a channel answered a webhook delivery.

    ``status_code`` is returned to the sender (401 for a bad signature). ``poll_now`` asks
    the core to poll this instance at once, so the order moves in seconds. ``body`` is
    what the sender must read back (a challenge's answer): a mapping is sent as JSON, text
    or bytes as they are, with ``content_type``; without a body the sender gets a short
    JSON summary. ``headers`` are added to the response. ``privacy`` carries the
    erasure or data requests the delivery made (see :mod:`fbs_core.domain.privacy`); the
    core carries them out before the answer is sent.
    """

    status_code: int
    poll_now: bool = False
    message: str = ""
    body: Mapping[str, Any] | str | bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str | None = None
    privacy: tuple[PrivacyRequest, ...] = ()


AppWebhookHandler = Callable[[WebhookRequest, Mapping[str, "OrderSource"]], WebhookResult]
"""An app-level endpoint of a channel type: called with the delivery and every configured
instance of that type (for their secrets), for topics not tied to one store."""


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

    def store_identity(self) -> str | None:
        """Name the store this instance reads, stably: the same store, the same string.

        fbs keeps orders per (merchant, store identity, external id), so renaming the
        instance in ``fbs.toml`` keeps its orders and their progress, and pointing it at
        another store while orders are in flight is refused. Prefix the platform and use
        what the platform itself treats as the store's unique name, normalized (lower-case
        host, no trailing slash), at most 255 characters: ``woocommerce:shop.example.com``,
        ``shopify:acme.myshopify.com``, ``ebay:<seller user id>``.

        Called by ``fbs check`` and before the first poll; raise an ``AdapterError`` if the
        store cannot be asked right now (the poll is retried). The default returns None:
        the instance's orders are then known by its name alone, and renaming it imports
        them again.
        """
        return None

    def acknowledge_order(self, external_id: str, message: str) -> None:  # noqa: B027
        """Mark the order as being processed on the channel (e.g. an order note).

        Called once per order after fbs accepts it. Must be harmless if repeated.
        """

    def subscribe(self, url: str) -> list[tuple[str, str]]:
        """Subscribe the store's order webhooks to ``url`` (``fbs channels subscribe``).

        Must be idempotent: running it again creates nothing new. Returns (topic,
        outcome) pairs to show, e.g. ``("orders/paid", "created")``. The default says the
        channel cannot do it.
        """
        raise NotImplementedError

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        """Verify and interpret one POSTed delivery; the default refuses all of them.

        The simple form: override :meth:`handle_webhook_request` instead to answer GET
        challenges, sub-paths, or with a body and headers of your own.
        """
        return WebhookResult(status_code=404, message="this channel does not accept webhooks")

    def handle_webhook_request(self, request: WebhookRequest) -> WebhookResult:
        """Verify and interpret one delivery of any method; the core calls this one.

        The default passes a POST to ``/webhooks/<instance>`` to :meth:`handle_webhook`
        and answers anything else with 405 (another method) or 404 (a sub-path).
        """
        if request.path:
            return WebhookResult(status_code=404, message="no such webhook endpoint")
        if request.method != "POST":
            return WebhookResult(
                status_code=405, message="webhooks are POSTed", headers={"allow": "POST"}
            )
        return self.handle_webhook(request.headers, request.body)


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

    part_numbers: PartNumberRules = PartNumberRules()
    """The part numbers this warehouse's API can carry (length, forbidden characters).

    Override it (on the class, or per instance in ``__init__``) when the API has limits:
    sourcing never asks ``offers`` about a part number that breaks them nor puts one on a
    purchase order here, and an order whose part no configured warehouse can carry is held
    ``unsupported_part_number`` before the card is charged.
    """

    @abc.abstractmethod
    def offers(self, skus: Sequence[str]) -> list[Offer]:
        """Return stock and cost for the part numbers this warehouse knows.

        Omit parts it does not carry; report carried parts with no stock as
        ``available=0``. Reads only: may be called any number of times.
        """

    @abc.abstractmethod
    def place_order(self, request: PurchaseOrderRequest) -> PurchaseOrderAck:
        """Send a purchase order; placing the same ``po_number`` twice must be harmless.

        ``request.lines`` lists each part number once. Raise
        :class:`~fbs_core.errors.OutOfStock` if the warehouse refuses for stock, naming the
        short part numbers in ``skus`` when it can (only those are bought elsewhere). A
        request the warehouse rejects as invalid is a :class:`~fbs_core.errors.FatalError`
        (never retried). If the warehouse bills other prices than ``request.lines`` carry,
        return its lines in ``PurchaseOrderAck.lines``: the core applies the price-drift rule.
        """

    @abc.abstractmethod
    def fetch_shipments(self, cursor: str | None) -> ShipmentBatch:
        """Return parcels shipped since ``cursor`` for purchase orders fbs placed."""

    @abc.abstractmethod
    def cancel_order(self, po_number: str, keep: Mapping[str, int] | None = None) -> CancelResult:
        """Ask the warehouse to stop a purchase order, or part of it.

        With ``keep`` None, stop every unit not yet shipped. Otherwise ``keep`` names, for
        some part numbers, how many units the order should end with (shipped and still to
        ship; 0 stops all of it): the buyer lowered a quantity or removed a line on the
        channel. Both are idempotent: asking again changes nothing. Return every unit
        cancelled on the purchase order so far, not only by this call. A warehouse that
        cannot stop part of an order raises :class:`~fbs_core.errors.FatalError`.
        """
