"""Rate limits plugins declare and the core enforces on every adapter call.

An adapter says what its remote allows through :meth:`fbs_core.adapters.Adapter.rate_limits`
(requests per second with a burst, a cost-point bucket, a daily quota, and how many calls
may run at once) and which remote account the limits belong to through
``rate_limit_key()``. Instances with the same key (two instances on one shop) share one
:class:`Limiter`, so eight worker threads never go past one store's limits together.

The core wraps each adapter's calls when it builds the runtime (:func:`govern`): every call
takes a concurrency slot and a request token, and counts against the daily quota. Cost
points depend on the query, so the plugin spends them itself through
``self.rate_limiter.spend(points)`` before a request and may correct the bucket with what
the remote reports (``observe_available``). Limits hold within one process; on a shared
PostgreSQL database each limiter also passes its calls through a gate of
:mod:`fbs_core.shared_limits`, so the request rate and the concurrency cap hold across
processes too.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from .errors import RetriableError

T = TypeVar("T")


@dataclass(frozen=True)
class RateLimits:
    """What one remote account allows; ``None`` means no limit of that kind."""

    requests_per_second: float | None = None
    burst: int = 1
    """Requests that may go at once after a quiet spell."""
    cost_points_per_second: float | None = None
    """Restore rate of a cost-point (leaky) bucket, e.g. Shopify's 100 points/s."""
    cost_points_capacity: float | None = None
    """Size of that bucket, e.g. Shopify's 1,000 points."""
    daily_quota: int | None = None
    """Calls per UTC day, e.g. an eBay application's quota."""
    max_concurrency: int | None = None
    """Calls in flight at once against this account."""


UNLIMITED = RateLimits()


class SharedGate(Protocol):
    """Limits held together with other processes (see :mod:`fbs_core.shared_limits`)."""

    def call(self) -> Any:
        """A context manager held for the length of one call."""
        ...


GateFactory = Callable[[str, RateLimits], SharedGate]


class _Bucket:
    """A token bucket: ``rate`` tokens per second up to ``capacity``."""

    def __init__(self, rate: float, capacity: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.clock = clock
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, amount: float) -> float:
        """Take ``amount`` if it is there and return 0, else the seconds until it will be."""
        self._refill()
        if self.tokens >= amount:
            self.tokens -= amount
            return 0.0
        return (amount - self.tokens) / self.rate

    def set_available(self, tokens: float) -> None:
        self._refill()
        self.tokens = max(0.0, min(self.capacity, tokens))


class Limiter:
    """The limits of one remote account, shared by every instance that uses it."""

    def __init__(
        self,
        limits: RateLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        today: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._sleep = sleep
        self._today = today
        self._requests = (
            _Bucket(limits.requests_per_second, max(limits.burst, 1), clock)
            if limits.requests_per_second
            else None
        )
        self._points = (
            _Bucket(
                limits.cost_points_per_second,
                limits.cost_points_capacity or limits.cost_points_per_second,
                clock,
            )
            if limits.cost_points_per_second
            else None
        )
        self._slots = (
            threading.BoundedSemaphore(limits.max_concurrency) if limits.max_concurrency else None
        )
        self._day: str = ""
        self._calls_today = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.waited_seconds = 0.0
        self.shared: SharedGate | None = None
        """Set when processes share the limits through the database."""

    def _take(self, bucket: _Bucket | None, amount: float) -> None:
        if bucket is None:
            return
        if amount > bucket.capacity:
            raise ValueError(f"a cost of {amount} points is over the bucket's {bucket.capacity}")
        while True:
            with self._lock:
                wait = bucket.wait_for(amount)
                if wait > 0:
                    self.waited_seconds += wait
            if wait <= 0:
                return
            self._sleep(wait)

    def _count_call(self) -> None:
        quota = self.limits.daily_quota
        if quota is None:
            return
        now = self._today()
        with self._lock:
            day = now.date().isoformat()
            if day != self._day:
                self._day, self._calls_today = day, 0
            if self._calls_today >= quota:
                midnight = datetime.combine(
                    now.date() + timedelta(days=1), datetime.min.time(), UTC
                )
                raise RetriableError(
                    f"the daily quota of {quota} calls is used up; it renews at midnight UTC",
                    retry_after=(midnight - now).total_seconds(),
                    code="rate_limited",
                )
            self._calls_today += 1

    @contextmanager
    def call(self) -> Iterator[None]:
        """Hold a concurrency slot and a request token for the length of one call."""
        self._count_call()
        if self._slots is not None:
            self._slots.acquire()
        try:
            with self._lock:
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                self._take(self._requests, 1)
                if self.shared is None:
                    yield
                else:
                    with self.shared.call():
                        yield
            finally:
                with self._lock:
                    self.in_flight -= 1
        finally:
            if self._slots is not None:
                self._slots.release()

    def spend(self, points: float) -> None:
        """Wait until the cost-point bucket holds ``points``, then take them."""
        self._take(self._points, points)

    def observe_available(self, points: float) -> None:
        """Set the bucket to what the remote says is left (e.g. ``throttleStatus``)."""
        if self._points is not None:
            with self._lock:
                self._points.set_available(points)


class LimiterRegistry:
    """One :class:`Limiter` per remote account key, created on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._limiters: dict[str, Limiter] = {}
        self._shared: GateFactory | None = None

    def get(self, key: str, limits: RateLimits) -> Limiter:
        """The limiter for ``key`` (the first declaration of its limits wins)."""
        with self._lock:
            if key not in self._limiters:
                limiter = Limiter(limits)
                if self._shared is not None:
                    limiter.shared = self._shared(key, limits)
                self._limiters[key] = limiter
            return self._limiters[key]

    def share(self, gates: GateFactory) -> None:
        """Hold every limiter's limits with other processes too, through ``gates``."""
        with self._lock:
            self._shared = gates
            for key, limiter in self._limiters.items():
                limiter.shared = gates(key, limiter.limits)

    def items(self) -> list[tuple[str, Limiter]]:
        """Every limiter by key."""
        with self._lock:
            return list(self._limiters.items())


UNGOVERNED = frozenset(
    {
        "close",
        "handle_webhook",
        "handle_webhook_request",
        "rate_limits",
        "rate_limit_key",
        "is_secret_state_key",
        "masked_state",
    }
)
"""Adapter methods that make no call to the remote on the core's behalf (a log filter asks
``is_secret_state_key`` on every line, even inside a governed call)."""


def _limited(limiter: Limiter, method: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with limiter.call():
            return method(*args, **kwargs)

    return wrapper


def govern(adapter: Any, registry: LimiterRegistry) -> Limiter | None:
    """Put every remote-facing method of ``adapter`` behind its account's limiter.

    The methods wrapped are the public ones the adapter base classes define (fetch,
    push, charge, refund, place, cancel, check, ...). Returns the limiter, also set as
    ``adapter.rate_limiter``, or None for an adapter that declares no limits.
    """
    from .adapters import Adapter

    limits = adapter.rate_limits()
    if limits == UNLIMITED:
        return None
    limiter = registry.get(f"{adapter.kind}:{adapter.rate_limit_key()}", limits)
    adapter.rate_limiter = limiter
    names = {
        name
        for base in type(adapter).__mro__
        if issubclass(base, Adapter) and base.__module__ == Adapter.__module__
        for name, value in vars(base).items()
        if callable(value) and not name.startswith("_") and name not in UNGOVERNED
    }
    for name in sorted(names):
        setattr(adapter, name, _limited(limiter, getattr(adapter, name)))
    return limiter
