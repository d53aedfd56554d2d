"""A small Admin GraphQL client over httpx: cost-aware, with Shopify's errors mapped.

Every answer carries ``extensions.cost`` (``requestedQueryCost``, ``actualQueryCost`` and
``throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}``). The client
spends a query's estimated cost from the instance's shared limiter before sending it,
tells the limiter what Shopify says is left after each answer, and on a ``THROTTLED``
error waits exactly as long as the bucket needs to hold the requested cost, then sends
the query again (a few times at most, then a retriable error with that wait).

HTTP failures map to fbs's errors: 401/403 are :class:`AuthError`, 429 and 5xx and
timeouts are :class:`RetriableError` (with ``Retry-After``), other 4xx are fatal. GraphQL
errors other than throttling (an unknown field, a bad variable) are fatal: sending the
same document again cannot help.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from fbs_core.errors import AuthError, FatalError, RetriableError
from fbs_core.ratelimits import Limiter
from fbs_core.remote_calls import remote_call

from .shopify_documents import DOCUMENTS

log = logging.getLogger("fbs.channel.shopify.client")

THROTTLE_RETRIES = 4
"""How many times one query is sent again after ``THROTTLED`` before giving up."""

DEFAULT_COSTS: dict[str, float] = {
    "FbsOrders": 650,
    "FbsOrderLines": 160,
    "FbsOrderFulfillmentOrders": 140,
    "FbsFulfillmentOrderLines": 205,
    "FbsOrderFulfillments": 302,
    "FbsFulfillmentCreate": 10,
    "FbsLocations": 52,
    "FbsShop": 1,
    "FbsWebhookSubscriptions": 102,
    "FbsWebhookSubscriptionCreate": 10,
    "FbsFulfillmentServices": 3,
    "FbsFulfillmentServiceCreate": 10,
    "FbsAssignedFulfillmentOrders": 330,
    "FbsAssignedLines": 260,
    "FbsAcceptFulfillmentRequest": 10,
    "FbsRejectFulfillmentRequest": 10,
    "FbsAcceptCancellationRequest": 10,
    "FbsRejectCancellationRequest": 10,
}
"""What each operation is expected to cost before its first answer says otherwise."""


@dataclass(frozen=True)
class ThrottleStatus:
    """The shop's bucket as the last answer described it."""

    maximum_available: float
    currently_available: float
    restore_rate: float

    def seconds_until(self, cost: float) -> float:
        """How long until the bucket holds ``cost`` points (0 if it already does)."""
        missing = cost - self.currently_available
        if missing <= 0 or self.restore_rate <= 0:
            return 0.0
        return missing / self.restore_rate


@dataclass
class GraphQLAnswer:
    """The ``data`` of one answer, its cost and the bucket after it."""

    data: dict[str, Any]
    requested_cost: float | None = None
    actual_cost: float | None = None
    throttle: ThrottleStatus | None = None
    throttled_waits: list[float] = field(default_factory=list)


def _throttle_of(
    body: Mapping[str, Any],
) -> tuple[float | None, float | None, ThrottleStatus | None]:
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    throttle = None
    try:
        if status:
            throttle = ThrottleStatus(
                float(status["maximumAvailable"]),
                float(status["currentlyAvailable"]),
                float(status["restoreRate"]),
            )
    except (KeyError, TypeError, ValueError):
        throttle = None
    requested = cost.get("requestedQueryCost")
    actual = cost.get("actualQueryCost")
    return (
        float(requested) if isinstance(requested, int | float) else None,
        float(actual) if isinstance(actual, int | float) else None,
        throttle,
    )


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


class ShopifyClient:
    """Sends the channel's documents to one shop's Admin GraphQL endpoint.

    Args:
        endpoint: ``https://<shop>/admin/api/<version>/graphql.json``.
        access_token: the custom app's Admin API access token.
        timeout: seconds to wait for each answer.
        limiter: the shop's shared cost limiter, when the core gave the adapter one.
        sleep: how to wait (tests pass a recorder).
    """

    def __init__(
        self,
        endpoint: str,
        access_token: str,
        *,
        timeout: float = 10.0,
        limiter: Callable[[], Limiter | None] = lambda: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = endpoint
        self._http = httpx.Client(
            timeout=timeout,
            headers={
                "X-Shopify-Access-Token": access_token,
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "fbs-channel-shopify",
            },
        )
        self.timeout = timeout
        self._limiter = limiter
        self._sleep = sleep
        self.costs: dict[str, float] = dict(DEFAULT_COSTS)
        """Last requested cost seen per operation: what the next one is expected to cost."""
        self.throttled_waits: list[float] = []
        """Every wait taken after a THROTTLED answer, in seconds (for logs and tests)."""
        self.last_throttle: ThrottleStatus | None = None

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def execute(self, operation: str, variables: Mapping[str, Any] | None = None) -> GraphQLAnswer:
        """Send the named document with ``variables``; return its data or raise an fbs error."""
        document = DOCUMENTS[operation]
        payload = {
            "query": document,
            "operationName": operation,
            "variables": dict(variables or {}),
        }
        waits: list[float] = []
        for attempt in range(THROTTLE_RETRIES + 1):
            self._spend(operation)
            body = self._post(operation, payload)
            requested, actual, throttle = _throttle_of(body)
            if throttle is not None:
                self.last_throttle = throttle
                limiter = self._limiter()
                if limiter is not None:
                    limiter.observe_available(throttle.currently_available)
            if requested is not None:
                self.costs[operation] = requested
            errors = body.get("errors")
            if errors and _is_throttled(errors):
                cost = requested if requested is not None else self.costs[operation]
                wait = throttle.seconds_until(cost) if throttle else 1.0
                if attempt == THROTTLE_RETRIES:
                    raise RetriableError(
                        f"Shopify throttled {operation} {attempt + 1} times; the bucket needs "
                        f"{wait:.1f} s more",
                        retry_after=wait,
                        code="rate_limited",
                    )
                log.info("%s throttled; waiting %.2f s for %s points", operation, wait, cost)
                waits.append(wait)
                self.throttled_waits.append(wait)
                self._sleep(wait)
                continue
            if errors:
                raise FatalError(
                    f"Shopify refused {operation}: {_describe(errors)}", code="graphql_error"
                )
            data = body.get("data")
            if not isinstance(data, dict):
                raise RetriableError(
                    f"Shopify answered {operation} without data", code="malformed_response"
                )
            return GraphQLAnswer(data, requested, actual, throttle, waits)
        raise AssertionError("unreachable")  # pragma: no cover

    def _spend(self, operation: str) -> None:
        limiter = self._limiter()
        if limiter is None or limiter.limits.cost_points_per_second is None:
            return
        capacity = limiter.limits.cost_points_capacity or limiter.limits.cost_points_per_second
        limiter.spend(min(self.costs[operation], capacity))

    def _post(self, operation: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        where = f"{operation} at {self.endpoint}"
        with remote_call("Shopify", where):
            response = self._http.post(self.endpoint, json=payload)
        status = response.status_code
        if status in (401, 403):
            raise AuthError(
                f"Shopify refused the access token for {where} (HTTP {status}): "
                f"{_http_error(response)}; check access_token and the app's scopes"
            )
        if status == 429:
            raise RetriableError(
                f"Shopify answered {where} with HTTP 429",
                retry_after=_retry_after(response.headers.get("Retry-After")),
                code="rate_limited",
            )
        if status >= 500:
            raise RetriableError(
                f"Shopify answered {where} with HTTP {status}", code="upstream_unavailable"
            )
        if status != 200:
            raise FatalError(
                f"Shopify answered {where} with HTTP {status}: {_http_error(response)}",
                code="upstream_rejected",
            )
        try:
            body = response.json()
        except ValueError:
            raise RetriableError(
                f"Shopify returned malformed JSON for {where}", code="malformed_response"
            ) from None
        if not isinstance(body, dict):
            raise RetriableError(
                f"Shopify returned malformed JSON for {where}", code="malformed_response"
            )
        return body


def _is_throttled(errors: Any) -> bool:
    return isinstance(errors, list) and any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
        for e in errors
    )


def _describe(errors: Any) -> str:
    if isinstance(errors, str):
        return errors[:300]
    if isinstance(errors, list):
        messages = [str(e.get("message")) for e in errors if isinstance(e, dict)]
        return "; ".join(messages)[:500] or "unknown error"
    return "unknown error"


def _http_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "errors" in body:
        return _describe(body["errors"])
    return str(body)[:200]
