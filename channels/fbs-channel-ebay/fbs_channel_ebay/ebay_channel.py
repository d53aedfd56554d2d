"""The eBay channel: orders in through getOrders, tracking out as shipping fulfillments."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from fbs_core.adapters import OrderSource, TrackingSink
from fbs_core.domain import (
    IncomingOrder,
    OrderBatch,
    TrackingPush,
    TrackingResult,
    UnreadableOrder,
)
from fbs_core.errors import AuthError, RetriableError
from fbs_core.ratelimits import RateLimits
from fbs_core.remote_calls import remote_call

from .ebay_carriers import ebay_carrier_code
from .ebay_mapping import ebay_time, map_order, parse_time
from .ebay_oauth import TokenKeeper
from .ebay_options import APPLICATION_SCOPE, FULFILLMENT_SCOPE, EbayOptions
from .ebay_rest import CallCounter, EbayRestClient

OPEN_FULFILLMENT = "orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}"
"""Orders with something left to ship (OrderFulfillmentStatus values)."""
CALLS_DAY_KEY = "calls_day"
CALLS_TODAY_KEY = "calls_today"
LAST_POLL_KEY = "last_poll_at"
REFRESH_TOKEN_WARNING = timedelta(days=30)


@dataclass(frozen=True)
class PollCursor:
    """Where a pass over ``getOrders`` stands.

    ``since`` is the modification time the pass reads from (None: eBay's default window);
    ``offset`` the next page; ``started`` when the pass began and ``newest`` the latest
    ``lastModifiedDate`` it saw: the next pass starts from the earlier of the two, so an
    order modified while we paged is read again rather than skipped.
    """

    since: str | None = None
    offset: int = 0
    started: str | None = None
    newest: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> PollCursor:
        """Read a stored cursor; an unreadable one starts over from eBay's default window."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            return cls(
                since=data.get("since"),
                offset=int(data.get("offset") or 0),
                started=data.get("started"),
                newest=data.get("newest"),
            )
        except (ValueError, TypeError, AttributeError):
            return cls()

    def dump(self) -> str:
        """The cursor as stored by the core."""
        return json.dumps(asdict(self), sort_keys=True)


class EbayChannel(OrderSource, TrackingSink):
    """One eBay seller account, as the source of its orders and their tracking sink."""

    kind = "channel"

    def __init__(
        self,
        name: str,
        options: EbayOptions,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(name, options)
        self.options: EbayOptions = options
        self.endpoints = options.endpoints()
        self._clock = clock
        self._http = httpx.Client(timeout=options.timeout, transport=transport)
        self.tokens = TokenKeeper(
            self._http,
            self.endpoints.token,
            options.client_id.get_secret_value(),
            options.client_secret.get_secret_value(),
            options.refresh_token.get_secret_value() if options.refresh_token else "",
            (FULFILLMENT_SCOPE,),
            clock=clock,
        )
        self.calls = CallCounter(clock)
        self.client = EbayRestClient(
            self._http,
            self.endpoints.fulfillment,
            self.tokens,
            marketplace=options.marketplace,
            counter=self.calls,
        )
        self._seller_id: str | None = options.seller_id

    # -- state, identity, limits, checks -------------------------------------------------

    def _load_state(self) -> None:
        self.tokens.load(self.state)
        with contextlib.suppress(ValueError):
            self.calls.load(
                self.state.get(CALLS_DAY_KEY, ""), int(self.state.get(CALLS_TODAY_KEY, "0"))
            )

    def _state_update(self, **extra: str) -> dict[str, str]:
        update = {**self.tokens.state(), **extra}
        update[CALLS_DAY_KEY] = self.calls.day or self._clock().date().isoformat()
        update[CALLS_TODAY_KEY] = str(self.calls.today())
        return update

    def store_identity(self) -> str:
        """``ebay:<seller user id>``: ``seller_id``, else the ``sellerId`` of an order.

        eBay names the seller on every order; an account with no order yet cannot say,
        and the poll asks again (set ``seller_id`` to start before the first sale).
        """
        if self._seller_id is None:
            self._load_state()
            page = self.client.get("order", {"limit": 1, "offset": 0}).data or {}
            orders = page.get("orders") if isinstance(page, dict) else None
            seller = next(
                (
                    o.get("sellerId")
                    for o in orders or []
                    if isinstance(o, dict) and o.get("sellerId")
                ),
                None,
            )
            if not seller:
                raise RetriableError(
                    "eBay has no order yet to name the seller; set seller_id in the options",
                    code="identity_unknown",
                )
            self._seller_id = str(seller)
        return f"ebay:{self._seller_id.lower()}"

    def rate_limits(self) -> RateLimits:
        """EBay's daily call limit for the application (``daily_call_limit``)."""
        return RateLimits(daily_quota=self.options.call_limit(), max_concurrency=4)

    def rate_limit_key(self) -> str:
        """The application and seller the quota belongs to (never a secret value)."""
        return f"ebay:{self.options.environment.value}:{self.name}"

    def _report_usage(self) -> None:
        """Log today's calls (``fbs -v check`` shows it); a warning near the limit."""
        if self._near_limit():
            self.log.warning("%s: polls are spaced out until the limit resets", self.usage_today())
        else:
            self.log.info("%s", self.usage_today())

    def usage_today(self) -> str:
        """``"<calls> of <limit> calls today"``, as ``fbs check`` shows it."""
        return f"{self.calls.today()} of {self.options.call_limit()} eBay calls today"

    def check(self) -> str:
        """Refresh the token, read one order, report today's calls and the refresh token's expiry.

        Raises ``AuthError`` when the refresh token is revoked or expired.
        """
        self._load_state()
        expires = self.options.refresh_token_expires_at
        now = self._clock()
        if expires is not None and expires <= now:
            raise AuthError(
                f"the eBay refresh token expired on {expires.date().isoformat()}; have the "
                "seller grant access again and set a new refresh_token",
                code="refresh_token_expired",
            )
        self.client.get("order", {"limit": 1, "offset": 0})
        self._report_usage()
        notes = [self.usage_today()]
        if expires is not None and expires - now <= REFRESH_TOKEN_WARNING:
            self.log.warning(
                "the eBay refresh token expires on %s; mint a new one before then",
                expires.date().isoformat(),
            )
            notes.append(f"the refresh token expires on {expires.date().isoformat()}")
        return "; ".join(notes)

    # -- intake ---------------------------------------------------------------------------

    def fetch_orders(self, cursor: str | None) -> OrderBatch:
        """Read orders modified since the cursor that still have something to ship.

        Pages through ``getOrders`` (``limit``/``offset``) up to ``max_pages_per_poll``,
        then returns with ``more=True`` and the next offset in the cursor. Near the daily
        call limit polls are spaced so the remaining calls last until the day ends; a
        skipped poll returns nothing and keeps the cursor, so no order is lost.
        """
        self._load_state()
        position = PollCursor.parse(cursor)
        now = self._clock()
        wait = self._quota_wait(now)
        if wait is not None:
            self.log.info(
                "%s; the next poll waits %.0f s so the limit lasts the day",
                self.usage_today(),
                wait,
            )
            return OrderBatch(orders=(), cursor=cursor, state=self._state_update())
        if position.offset == 0:
            position = PollCursor(since=position.since, started=now.isoformat())
        found: dict[str, IncomingOrder | UnreadableOrder] = {}
        newest = parse_time(position.newest) if position.newest else None
        pages_left = self.options.max_pages_per_poll if not self._near_limit() else 1
        offset = position.offset
        done = False
        while pages_left > 0:
            mapped_page, offset, done = self._fetch_page(position, offset)
            for mapped in mapped_page:
                found[mapped.external_id] = mapped
                stamp = mapped.updated_at
                if stamp is not None and (newest is None or stamp > newest):
                    newest = stamp
            if done:
                break
            pages_left -= 1
        if done:
            started = parse_time(position.started) if position.started else now
            resume = min(newest, started) if newest is not None else started
            since = ebay_time(resume - timedelta(seconds=self.options.overlap_seconds))
            next_cursor = PollCursor(since=since)
        else:
            next_cursor = PollCursor(
                since=position.since,
                offset=offset,
                started=position.started,
                newest=newest.isoformat() if newest else None,
            )
        return OrderBatch(
            orders=tuple(found.values()),
            cursor=next_cursor.dump(),
            state=self._state_update(**{LAST_POLL_KEY: now.isoformat()}),
            more=not done and not self._near_limit(),
        )

    def _fetch_page(
        self, position: PollCursor, offset: int
    ) -> tuple[list[IncomingOrder | UnreadableOrder], int, bool]:
        """One page of orders mapped, the offset after it, and whether it was the last."""
        page = self._page(position.since, offset)
        orders = page.get("orders") or []
        after = offset + len(orders)
        total = page.get("total")
        done = not orders or not isinstance(total, int) or after >= total or not page.get("next")
        return [map_order(raw) for raw in orders], after, done

    def _page(self, since: str | None, offset: int) -> dict[str, Any]:
        criteria = [OPEN_FULFILLMENT]
        if since:
            criteria.insert(0, f"lastmodifieddate:[{since}..]")
        params = {
            "filter": ",".join(criteria),
            "limit": str(self.options.page_size),
            "offset": str(offset),
        }
        data = self.client.get("order", params).data
        if not isinstance(data, dict):
            raise RetriableError(
                "eBay answered getOrders without a page", code="malformed_response"
            )
        return data

    def _near_limit(self) -> bool:
        limit = self.options.call_limit()
        return self.calls.today() >= limit * (1 - self.options.quota_reserve)

    def _quota_wait(self, now: datetime) -> float | None:
        """Seconds until the next poll may run, when the calls left must be spread out."""
        if not self._near_limit():
            return None
        left = self.options.call_limit() - self.calls.today()
        midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
        day_left = (midnight - now).total_seconds()
        # Half of what is left is for tracking; each poll costs about one call.
        spacing = day_left / max(left // 2, 1) if left > 1 else day_left
        last = self.state.get(LAST_POLL_KEY)
        if not last:
            return None
        try:
            since_last = (now - datetime.fromisoformat(last)).total_seconds()
        except ValueError:
            return None
        return spacing - since_last if since_last < spacing else None

    # -- tracking -------------------------------------------------------------------------

    def push_tracking(self, push: TrackingPush) -> TrackingResult:
        """Add one parcel to its order as a shipping fulfillment, unless it is there.

        createShippingFulfillment takes no idempotency key, so the order's fulfillments
        are read first and a parcel whose tracking number is already there is not sent
        again: a retry after a lost answer finds the first one.
        """
        self._load_state()
        path = f"order/{push.external_order_id}/shipping_fulfillment"
        existing = self.client.get(path).data or {}
        for fulfillment in existing.get("fulfillments") or []:
            if isinstance(fulfillment, dict) and (
                str(fulfillment.get("shipmentTrackingNumber") or "") == push.tracking_number
            ):
                return TrackingResult(
                    reference=str(fulfillment.get("fulfillmentId") or ""), already_present=True
                )
        quantities: dict[str, int] = {}
        for line in push.lines:
            line_item_id = line.channel_data.get("line_item_id") or line.line_id
            quantities[line_item_id] = quantities.get(line_item_id, 0) + line.quantity
        body = {
            "lineItems": [
                {"lineItemId": line_item_id, "quantity": quantity}
                for line_item_id, quantity in quantities.items()
            ],
            "shippedDate": ebay_time(push.shipped_at),
            "shippingCarrierCode": ebay_carrier_code(push.shipping_carrier),
            "trackingNumber": push.tracking_number,
        }
        created = self.client.post(path, body)
        location = created.headers.get("Location", "")
        return TrackingResult(reference=location.rstrip("/").rsplit("/", 1)[-1] if location else "")

    def notification_public_key(self, kid: str) -> dict[str, Any] | None:
        """The Notification API's public key ``kid`` (getPublicKey), or None if unknown.

        Asked with an application token (client-credentials grant); used to verify
        marketplace account deletion notifications.
        """
        token = self.tokens.application_token(APPLICATION_SCOPE)
        try:
            with remote_call("eBay", "the Notification API's public key"):
                response = self._http.get(
                    f"{self.endpoints.notification}/public_key/{kid}",
                    headers={"Authorization": f"Bearer {token}"},
                )
        finally:
            self.calls.add()
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise RetriableError(f"eBay answered getPublicKey with {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise RetriableError("eBay's getPublicKey answer is not JSON") from None
        return body if isinstance(body, dict) else None

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()
