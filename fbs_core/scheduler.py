"""The in-process scheduler: one APScheduler 3 job that ticks the engine.

This is the only module that imports APScheduler. There is one job, not one per store:
the tick claims due polls from our own tables (``next_poll_at`` plus a lease), so
adding stores costs no scheduler work and two polls of one store never overlap.

A webhook that makes a poll due wakes the loop (``on_wake``): the tick job is moved to
now, and a tick already running is followed at once by another, so the poll and the
commands it creates start without waiting for the next period.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("fbs.scheduler")

TICK_JOB_ID = "fbs-tick"


class _SkippedTickFilter(logging.Filter):
    """Drop APScheduler's warning for a tick skipped while the previous one still runs.

    A tick drains the outbox for up to several seconds, so under load the next period
    often finds it running; skipping is the intended behaviour, not a problem.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_SkippedTickFilter())


class Tickable(Protocol):
    """What the loop ticks: one merchant's engine or a folder of merchants."""

    on_wake: Callable[[], None] | None

    def tick(self) -> int:
        """One period's work; return how much was done."""
        ...

    def stop(self) -> None:
        """Finish the work in hand and stop."""
        ...


def build_scheduler(
    engine: Tickable, tick_seconds: float, wake: threading.Event | None = None
) -> BackgroundScheduler:
    """A paused-until-started scheduler with the single tick job.

    ``max_instances=1`` keeps ticks from overlapping; ``coalesce`` turns ticks missed
    while a long tick ran (or the machine slept) into one.
    """
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        _safe_tick,
        IntervalTrigger(seconds=tick_seconds),
        args=(engine, wake),
        id=TICK_JOB_ID,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        replace_existing=True,
    )
    return scheduler


def _safe_tick(engine: Tickable, wake: threading.Event | None = None) -> None:
    """Tick; tick again at once while a wake-up came during the tick."""
    while True:
        if wake is not None:
            wake.clear()
        try:
            engine.tick()
        except Exception:  # noqa: BLE001 - the loop must outlive any one tick
            log.exception("tick failed; the next tick will try again")
        if wake is None or not wake.is_set():
            return


def _waker(scheduler: BackgroundScheduler, wake: threading.Event) -> Callable[[], None]:
    """What ``on_wake`` calls: mark the wake-up and run the tick job now."""

    def wake_up() -> None:
        wake.set()
        try:
            scheduler.modify_job(TICK_JOB_ID, next_run_time=datetime.now(UTC))
        except Exception:  # noqa: BLE001 - stopping; the poll stays due for the next run
            log.debug("could not move the tick forward", exc_info=True)

    return wake_up


def run_until_signalled(
    engine: Tickable,
    tick_seconds: float,
    *,
    on_start: Callable[[], None] | None = None,
    stop_event: threading.Event | None = None,
    on_hangup: Callable[[], None] | None = None,
) -> None:
    """Tick until SIGINT/SIGTERM (or ``stop_event``), then stop cleanly.

    A clean stop lets the tick in progress finish its commands (each records its result)
    before the process exits; polls and commands it had not started stay due. With
    ``on_hangup``, SIGHUP calls it (``fbs run --config-dir`` re-reads its folder).
    """
    stop = stop_event or threading.Event()
    wake = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
        if on_hangup is not None:
            hangup = on_hangup
            previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, lambda *_: hangup())
    scheduler = build_scheduler(engine, tick_seconds, wake)
    scheduler.start()
    engine.on_wake = _waker(scheduler, wake)
    try:
        if on_start is not None:
            on_start()
        _safe_tick(engine, wake)  # do not wait a whole period for the first tick
        stop.wait()
    finally:
        log.info("stopping: finishing the work in hand")
        engine.on_wake = None
        scheduler.shutdown(wait=True)
        engine.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
