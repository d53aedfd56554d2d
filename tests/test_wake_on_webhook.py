"""Latency: a webhook that asks for a poll starts that poll at once, not at the next tick.

Specified here:

* ``Engine.request_poll`` makes the channel's poll due and wakes the loop;
* a tick that a wake-up arrives during is followed at once by another tick;
* in a running loop whose period is an hour, an order announced by a webhook is polled,
  charged and bought from the warehouse without waiting for the period: the poll and
  the outbox commands it creates run as soon as the webhook arrives.
"""

from __future__ import annotations

import threading
import time

from fbs_core.db import repository as repo
from fbs_core.scheduler import _safe_tick, run_until_signalled
from fbs_core.testing import fakes


def test_request_poll_makes_the_poll_due_and_wakes_the_loop(make_engine):
    engine = make_engine()
    engine.prepare()
    woken: list[bool] = []
    engine.on_wake = lambda: woken.append(True)
    engine.poll_due(force=True)  # every instance polled: next polls are minutes away
    assert engine.poll_due() == 0
    engine.request_poll("shop")
    assert woken == [True]
    fakes.market("default").add(fakes.make_order("W1", [("ALT-REMAN-CIV", 1)]))
    assert engine.poll_due() == 1, "the webhook's poll is due at once"


class CountingTicker:
    """A tickable whose first tick receives a wake-up, as a webhook during a tick would."""

    def __init__(self, wake: threading.Event) -> None:
        self.wake = wake
        self.ticks = 0
        self.on_wake = None

    def tick(self) -> int:
        self.ticks += 1
        if self.ticks == 1:
            self.wake.set()
        return 0

    def stop(self) -> None:
        pass


def test_a_wake_up_during_a_tick_is_followed_by_another_tick_at_once():
    wake = threading.Event()
    ticker = CountingTicker(wake)
    _safe_tick(ticker, wake)
    assert ticker.ticks == 2
    assert not wake.is_set()


def test_a_webhooks_order_is_bought_without_waiting_for_the_period(make_engine, ledger):
    engine = make_engine()
    stop = threading.Event()
    started = threading.Event()
    loop = threading.Thread(
        target=run_until_signalled,
        args=(engine, 3600.0),
        kwargs={"on_start": started.set, "stop_event": stop},
        daemon=True,
    )
    loop.start()
    try:
        assert started.wait(30)
        deadline = time.monotonic() + 60
        while engine.progress.polls < 3 and time.monotonic() < deadline:
            time.sleep(0.05)  # the first tick polls every instance once
        assert engine.progress.polls >= 3
        fakes.market("default").add(fakes.make_order("W2", [("ALT-REMAN-CIV", 1)]))
        assert engine.on_wake is not None
        engine.request_poll("shop")  # what the webhook server calls
        while ledger.count("purchase_order") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        # the period is an hour: only the wake-up can have polled, charged and bought
        assert ledger.count("charge") == 1
        assert ledger.count("purchase_order") == 1
        with engine.db.transaction() as session:
            assert sum(repo.count_by_status(session, "default").values()) == 1
    finally:
        stop.set()
        loop.join(60)
    assert not loop.is_alive()
