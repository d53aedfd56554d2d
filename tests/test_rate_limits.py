"""Rate limits a plugin declares are enforced by the core on every adapter call."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from fbs_core.adapters import OrderSource
from fbs_core.domain import OrderBatch
from fbs_core.errors import RetriableError
from fbs_core.ratelimits import Limiter, LimiterRegistry, RateLimits, govern
from fbs_core.testing import fakes
from fbs_core.testing.harness import basic_config


class FakeClock:
    """A monotonic clock that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class ProbeChannel(OrderSource):
    """Counts how many of its calls run at once."""

    def __init__(self, name: str, limits: RateLimits, store: str = "") -> None:
        super().__init__(name, options=None)
        self.limits, self.store = limits, store
        self._lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.calls = 0

    def rate_limits(self) -> RateLimits:
        return self.limits

    def rate_limit_key(self) -> str:
        return self.store or self.name

    def fetch_orders(self, cursor: str | None) -> OrderBatch:
        with self._lock:
            self.running += 1
            self.calls += 1
            self.most_at_once = max(self.most_at_once, self.running)
        time.sleep(0.01)
        with self._lock:
            self.running -= 1
        return OrderBatch()


def test_eight_threads_never_call_one_store_more_often_at_once_than_its_cap() -> None:
    channel = ProbeChannel("shop", RateLimits(max_concurrency=2))
    govern(channel, LimiterRegistry())

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: channel.fetch_orders(None), range(40)))

    assert channel.calls == 40
    assert channel.most_at_once == 2


def test_two_instances_of_one_store_share_its_limits() -> None:
    registry = LimiterRegistry()
    first = ProbeChannel("shop-a", RateLimits(max_concurrency=1), store="acme.myshopify.com")
    second = ProbeChannel("shop-b", RateLimits(max_concurrency=1), store="acme.myshopify.com")
    govern(first, registry)
    govern(second, registry)
    seen: list[int] = []
    lock = threading.Lock()

    def call(channel: ProbeChannel) -> None:
        channel.fetch_orders(None)
        with lock:
            seen.append(first.running + second.running)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(call, [first, second] * 10))

    assert first.rate_limiter is second.rate_limiter
    assert first.rate_limiter.most_in_flight == 1
    assert max(first.most_at_once, second.most_at_once) == 1


def test_requests_per_second_spaces_calls_after_the_burst() -> None:
    clock = FakeClock()
    limiter = Limiter(RateLimits(requests_per_second=2, burst=2), clock=clock, sleep=clock.sleep)

    for _ in range(6):
        with limiter.call():
            pass

    assert clock.now == pytest.approx(2.0)  # two at once, then one every half second
    assert all(s == pytest.approx(0.5) for s in clock.sleeps)


def test_cost_points_wait_for_the_bucket_to_refill_and_follow_the_remotes_word() -> None:
    clock = FakeClock()
    limiter = Limiter(
        RateLimits(cost_points_per_second=100, cost_points_capacity=1000),
        clock=clock,
        sleep=clock.sleep,
    )

    limiter.spend(900)
    assert clock.now == 0
    limiter.spend(300)  # 100 left: 2 s to restore the other 200
    assert clock.now == pytest.approx(2.0)

    limiter.observe_available(50)  # the remote says 50 are left
    limiter.spend(250)
    assert clock.now == pytest.approx(4.0)
    with pytest.raises(ValueError, match="over the bucket"):
        limiter.spend(1001)


def test_a_used_up_daily_quota_is_a_retry_at_midnight_not_a_call() -> None:
    now = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    limiter = Limiter(RateLimits(daily_quota=2), today=lambda: now)

    for _ in range(2):
        with limiter.call():
            pass
    with pytest.raises(RetriableError) as refused, limiter.call():
        pytest.fail("the call went through past the quota")

    assert refused.value.code == "rate_limited"
    assert refused.value.retry_after == pytest.approx(3600)


def test_an_adapter_without_limits_is_left_as_it_is() -> None:
    channel = ProbeChannel("shop", RateLimits())

    assert govern(channel, LimiterRegistry()) is None
    assert channel.rate_limiter is None
    assert "fetch_orders" not in vars(channel)


def test_the_engine_runs_orders_through_a_limited_channel(make_engine, ledger) -> None:
    config = basic_config()
    config["scheduler"]["workers"] = 8
    config["channels"]["shop"]["options"].update(max_concurrency=1, requests_per_second=500)
    engine = make_engine(config)
    for index in range(12):
        fakes.market("default").add(fakes.generated_order(index, seed=3))

    engine.run_until_idle()

    limiter = engine.runtime.channels["shop"].rate_limiter
    assert limiter is not None
    assert limiter.most_in_flight == 1
    assert ledger.count("tracking") >= 12
