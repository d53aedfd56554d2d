"""The engine: polls due instances and drains the outbox in a bounded thread pool.

One engine serves one merchant's configuration. ``tick()`` is what the scheduler calls
each period; ``run_until_idle()`` is what ``fbs run --until-idle`` and tests call.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from .db import Database
from .db import repository as repo
from .db.types import utcnow
from .pipeline.context import PipelineContext
from .pipeline.polling import poll
from .pipeline.stores import establish as establish_stores
from .pipeline.worker import Performed, claim, perform, record
from .runtime import Runtime

log = logging.getLogger("fbs.engine")

T = TypeVar("T")


@dataclass
class Progress:
    """What the engine has done so far, for progress displays."""

    polls: int = 0
    changes: int = 0
    commands: int = 0
    passes: int = 0


def _outcome(future: Future[T], on_error: T) -> T:
    """A worker's result; an unexpected error is logged and the work stays leased.

    Whatever failed (a database error, a bug) is retried once its lease expires, so one
    bad command or poll never stops the others in the batch or the loop.
    """
    try:
        return future.result()
    except Exception:  # noqa: BLE001
        log.exception("a worker failed; the work is retried when its lease expires")
        return on_error


class Engine:
    """Runs the pipeline for one runtime against one database."""

    def __init__(
        self,
        runtime: Runtime,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.db = db
        self.ctx = PipelineContext(
            db=db,
            runtime=runtime,
            merchant_id=settings.merchant_id,
            rules=settings.fulfillment,
            scheduler=settings.scheduler,
            clock=clock,
        )
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.workers = settings.scheduler.workers
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="fbs-worker")
        self.progress = Progress()
        self._stopping = threading.Event()
        self._prepared = False

    # -- set-up ---------------------------------------------------------------------

    def instances(self) -> list[tuple[str, str]]:
        """Every enabled (kind, name) that gets polled."""
        return [("channel", name) for name in self.runtime.channels] + [
            ("supplier", name) for name in self.runtime.suppliers
        ]

    def prepare(self) -> None:
        """Create poll bookkeeping rows for newly configured instances and identify stores.

        Raises :class:`~fbs_core.pipeline.stores.StoreIdentityError` when the config
        points a channel at another store, or changed ``merchant_id``, with orders in flight.
        """
        if self._prepared:
            return
        with self.db.transaction() as session:
            repo.ensure_instances(session, self.ctx.merchant_id, self.instances(), self.ctx.now())
        self.ctx.installation_id()
        establish_stores(self.ctx)
        self._prepared = True

    # -- work -----------------------------------------------------------------------

    def request_poll(self, channel: str) -> None:
        """Poll a channel at the next tick (a verified webhook said it changed)."""
        with self.db.transaction() as session:
            repo.request_poll(session, self.ctx.merchant_id, "channel", channel, self.ctx.now())

    def poll_due(self, *, force: bool = False) -> int:
        """Poll every instance whose turn has come (all of them if ``force``); return changes."""
        self.prepare()
        now = self.ctx.now()
        lease = timedelta(seconds=self.ctx.scheduler.lease_seconds)
        with self.db.transaction() as session:
            if force:
                for kind, name in self.instances():
                    repo.request_poll(session, self.ctx.merchant_id, kind, name, now)
            claimed = [
                (row.kind, row.name)
                for row in repo.claim_due_instances(
                    session, self.ctx.merchant_id, self.owner, now, lease, self.instances()
                )
            ]
        futures = [
            self.pool.submit(poll, self.ctx, kind, name, self.owner) for kind, name in claimed
        ]
        changed = sum(future.result() for future in futures)
        self.progress.polls += len(claimed)
        self.progress.changes += changed
        return changed

    def drain(self, *, max_seconds: float | None = None) -> int:
        """Run due outbox commands until none is due (or time is up); return how many ran."""
        self.prepare()
        deadline = None if max_seconds is None else self.ctx.now() + timedelta(seconds=max_seconds)
        executed = 0
        while not self._stopping.is_set():
            commands = claim(self.ctx, self.owner, self.workers * 4)
            if not commands:
                break
            futures = [self.pool.submit(perform, self.ctx, command) for command in commands]
            performed = [
                p for p in (_outcome(f, "error") for f in futures) if isinstance(p, Performed)
            ]
            if performed:
                try:
                    record(self.ctx, performed)
                except Exception:  # noqa: BLE001 - left leased, retried after the lease
                    log.exception("recording a result failed; it is retried when its lease expires")
            executed += len(commands)
            self.progress.commands += len(commands)
            if deadline is not None and self.ctx.now() >= deadline:
                break
        return executed

    def tick(self) -> int:
        """One scheduler period: due polls, then the outbox; return the work done."""
        if self._stopping.is_set():
            return 0
        changed = self.poll_due()
        executed = self.drain(max_seconds=max(self.ctx.scheduler.tick_seconds * 10, 5.0))
        return changed + executed

    def run_until_idle(
        self, *, on_progress: Callable[[Progress], None] | None = None, max_passes: int = 1000
    ) -> Progress:
        """Poll every instance and drain the outbox, repeating while anything changes.

        Returns when a whole pass changed nothing: commands waiting on a backoff, and
        parcels a warehouse has not shipped yet, are left for the next run.
        """
        for _ in range(max_passes):
            if self._stopping.is_set():
                break
            self.progress.passes += 1
            changed = self.poll_due(force=True)
            executed = self.drain()
            if on_progress is not None:
                on_progress(self.progress)
            if changed == 0 and executed == 0:
                break
        return self.progress

    def stop(self) -> None:
        """Finish the commands in hand, then stop; safe to call twice."""
        self._stopping.set()
        self.pool.shutdown(wait=True)
