"""The in-process scheduler: one APScheduler 3 job that ticks the engine.

This is the only module that imports APScheduler. There is one job, not one per store:
the tick claims due polls from our own tables (``next_poll_at`` plus a lease), so
adding stores costs no scheduler work and two polls of one store never overlap.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .engine import Engine

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


def build_scheduler(engine: Engine, tick_seconds: float) -> BackgroundScheduler:
    """A paused-until-started scheduler with the single tick job.

    ``max_instances=1`` keeps ticks from overlapping; ``coalesce`` turns ticks missed
    while a long tick ran (or the machine slept) into one.
    """
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        _safe_tick,
        IntervalTrigger(seconds=tick_seconds),
        args=(engine,),
        id=TICK_JOB_ID,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        replace_existing=True,
    )
    return scheduler


def _safe_tick(engine: Engine) -> None:
    try:
        engine.tick()
    except Exception:  # noqa: BLE001 - the loop must outlive any one tick
        log.exception("tick failed; the next tick will try again")


def run_until_signalled(
    engine: Engine,
    tick_seconds: float,
    *,
    on_start: Callable[[], None] | None = None,
    stop_event: threading.Event | None = None,
) -> None:
    """Tick until SIGINT/SIGTERM (or ``stop_event``), then stop cleanly.

    A clean stop lets the tick in progress finish its commands (each records its result)
    before the process exits; polls and commands it had not started stay due.
    """
    stop = stop_event or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    scheduler = build_scheduler(engine, tick_seconds)
    scheduler.start()
    try:
        if on_start is not None:
            on_start()
        _safe_tick(engine)  # do not wait a whole period for the first tick
        stop.wait()
    finally:
        log.info("stopping: finishing the work in hand")
        scheduler.shutdown(wait=True)
        engine.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
