"""The engine: polls due instances and drains the outbox in a bounded thread pool.

One engine serves one merchant's configuration. ``tick()`` is what the scheduler calls
each period; ``run_until_idle()`` is what ``fbs run --until-idle`` and tests call.

Any number of engines (processes) may share one database. Each poll and each command
is claimed under a lease with a token of its own; a :class:`LeaseKeeper` renews the
leases of work still in progress, so a slow plugin call is never taken over while it
runs, and a process that died leaves leases that simply expire.
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
from .domain.privacy import PrivacyRequest
from .pipeline.context import PipelineContext
from .pipeline.polling import poll
from .pipeline.privacy import apply_privacy_request
from .pipeline.ship_by_watch import watch_ship_by
from .pipeline.stores import establish as establish_stores
from .pipeline.worker import Performed, claim, heartbeat, perform, record
from .runtime import Runtime

log = logging.getLogger("fbs.engine")

T = TypeVar("T")


class LeaseKeeper:
    """Renews the leases of claims in progress until they are finished.

    A background thread extends, every third of a lease, the lease of each claim token
    this engine still works on. A lease whose claim was already taken over carries
    another token and is left alone.
    """

    def __init__(self, db: Database, lease_seconds: float, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._lease = timedelta(seconds=lease_seconds)
        self._clock = clock
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, tokens: list[str]) -> None:
        """Keep renewing these claims' leases (starts the thread on first use)."""
        with self._lock:
            self._tokens.update(token for token in tokens if token)
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="fbs-lease-keeper", daemon=True
                )
                self._thread.start()

    def release(self, tokens: list[str]) -> None:
        """Stop renewing these claims' leases (their outcome is recorded)."""
        with self._lock:
            self._tokens.difference_update(tokens)

    def renew(self) -> None:
        """Extend every held lease now."""
        with self._lock:
            tokens = set(self._tokens)
        if not tokens:
            return
        with self._db.transaction() as session:
            repo.renew_leases(session, tokens, self._clock() + self._lease)

    def _run(self) -> None:
        interval = self._lease.total_seconds() / 3
        while not self._stop.wait(interval):
            try:
                self.renew()
            except Exception:  # noqa: BLE001 - a missed renewal only risks a takeover
                log.warning("renewing leases failed; trying again", exc_info=True)

    def stop(self) -> None:
        """Stop renewing; safe to call twice."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


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
        pool: ThreadPoolExecutor | None = None,
        leases: LeaseKeeper | None = None,
        on_wake: Callable[[], None] | None = None,
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
        # A deployment serving many merchants passes its one pool and lease keeper;
        # the engine then leaves shutting them down to the deployment.
        self._owns_pool = pool is None
        self.pool = pool or ThreadPoolExecutor(self.workers, thread_name_prefix="fbs-worker")
        self.progress = Progress()
        self.leases = leases or LeaseKeeper(db, settings.scheduler.lease_seconds, clock)
        self.on_wake = on_wake
        """Called after a webhook made a poll due, so the loop starts it at once."""
        if not db.is_sqlite:  # processes sharing PostgreSQL share partners' limits too
            from .shared_limits import share_limits

            runtime.limiters.share(share_limits(db, settings.merchant_id, self.owner))
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
        """Make a channel's poll due now (a verified webhook said it changed).

        The loop is woken (``on_wake``), so the poll, and the commands it creates, start
        at once rather than at the next tick.
        """
        with self.db.transaction() as session:
            repo.request_poll(session, self.ctx.merchant_id, "channel", channel, self.ctx.now())
        if self.on_wake is not None:
            self.on_wake()

    def apply_privacy(self, request: PrivacyRequest) -> None:
        """Carry out a channel's privacy request (erase or report a buyer's data)."""
        apply_privacy_request(self.ctx, request)

    def poll_due(self, *, force: bool = False) -> int:
        """Poll every instance whose turn has come (all of them if ``force``); return changes.

        Due instances are claimed a pool's worth at a time. A poll that fails, however it
        fails, is recorded on its instance and never escapes: the other polls go on.
        """
        self.begin_polls(force=force)
        changed = 0
        unpolled = self.instances()
        while unpolled:  # each instance is polled at most once per call
            unpolled, found = self.poll_round(unpolled)
            if found is None:
                break
            changed += found
        self.progress.changes += changed
        return changed

    def begin_polls(self, *, force: bool = False) -> None:
        """Before a pass of polls: set up, tell other processes we are here, force if asked."""
        self.prepare()
        heartbeat(self.ctx)
        if force:
            with self.db.transaction() as session:
                for kind, name in self.instances():
                    repo.request_poll(session, self.ctx.merchant_id, kind, name, self.ctx.now())

    def poll_round(
        self, unpolled: list[tuple[str, str]]
    ) -> tuple[list[tuple[str, str]], int | None]:
        """Claim up to a pool's worth of ``unpolled`` instances that are due and poll them.

        Returns the instances still unpolled and the changes found, or None for the
        changes when none was due. A deployment of many merchants takes turns with it.
        """
        if self._stopping.is_set():
            return unpolled, None
        claimed = self._claim_polls(unpolled)
        if not claimed:
            return unpolled, None
        polled = {(kind, name) for kind, name, _ in claimed}
        unpolled = [instance for instance in unpolled if instance not in polled]
        self.leases.hold([token for _, _, token in claimed])
        futures = [
            self.pool.submit(poll, self.ctx, kind, name, token) for kind, name, token in claimed
        ]
        try:
            changed = sum(_outcome(future, 0) for future in futures)
        finally:
            self.leases.release([token for _, _, token in claimed])
        self.progress.polls += len(claimed)
        return unpolled, changed

    def _claim_polls(self, instances: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
        """Claim up to a pool's worth of ``instances`` due a poll: (kind, name, claim token)."""
        lease = timedelta(seconds=self.ctx.scheduler.lease_seconds)
        with self.db.transaction() as session:
            rows = repo.claim_due_instances(
                session,
                self.ctx.merchant_id,
                self.owner,
                self.ctx.now(),
                lease,
                instances,
                limit=self.workers,
            )
            return [(row.kind, row.name, row.lease_token or "") for row in rows]

    def drain(self, *, max_seconds: float | None = None) -> int:
        """Run due outbox commands until none is due (or time is up); return how many ran."""
        self.prepare()
        deadline = None if max_seconds is None else self.ctx.now() + timedelta(seconds=max_seconds)
        executed = 0
        while not self._stopping.is_set():
            ran = self.drain_round(self.workers * 4)
            if not ran:
                break
            executed += ran
            if deadline is not None and self.ctx.now() >= deadline:
                break
        return executed

    def drain_round(self, limit: int) -> int:
        """Claim up to ``limit`` due commands, run them in the pool, record them; return how many.

        One round is the unit a deployment of many merchants takes turns with, so one
        merchant's backlog never keeps another's commands waiting more than a round.
        """
        if self._stopping.is_set():
            return 0
        self.prepare()
        commands = claim(self.ctx, self.owner, limit)
        if not commands:
            return 0
        tokens = [command.claim_token for command in commands]
        self.leases.hold(tokens)
        try:
            futures = [self.pool.submit(perform, self.ctx, command) for command in commands]
            performed = [
                p for p in (_outcome(f, "error") for f in futures) if isinstance(p, Performed)
            ]
            if performed:
                try:
                    record(self.ctx, performed)
                except Exception:  # noqa: BLE001 - left leased, retried after the lease
                    log.exception("recording a result failed; it is retried when its lease expires")
        finally:
            self.leases.release(tokens)
        self.progress.commands += len(commands)
        return len(commands)

    def watch_ship_by(self) -> int:
        """Warn about open orders that may miss their ship-by date; return how many.

        See :mod:`fbs_core.pipeline.ship_by_watch`. A failure is logged and never stops
        the loop.
        """
        try:
            with self.db.transaction() as session:
                return watch_ship_by(self.ctx, session)
        except Exception:  # noqa: BLE001 - a warning pass must never stop the pipeline
            log.exception("the ship-by watch failed; it runs again on the next pass")
            return 0

    def tick(self) -> int:
        """One scheduler period: due polls, then the outbox; return the work done."""
        if self._stopping.is_set():
            return 0
        changed = self.poll_due()
        changed += self.watch_ship_by()
        executed = self.drain(max_seconds=max(self.ctx.scheduler.tick_seconds * 10, 5.0))
        return changed + executed

    def run_until_idle(
        self, *, on_progress: Callable[[Progress], None] | None = None, max_passes: int = 1000
    ) -> Progress:
        """Poll every instance and drain the outbox, repeating while anything changes.

        Returns when a whole pass changed nothing and no poll said more is to come:
        commands waiting on a backoff, and parcels a warehouse has not shipped yet, are
        left for the next run.
        """
        for _ in range(max_passes):
            if self._stopping.is_set():
                break
            self.progress.passes += 1
            changed = self.poll_due(force=True)
            changed += self.watch_ship_by()
            executed = self.drain()
            if on_progress is not None:
                on_progress(self.progress)
            if changed == 0 and executed == 0 and not self.ctx.backlogged:
                break
        return self.progress

    def stop(self) -> None:
        """Finish the commands in hand, then stop; safe to call twice."""
        self._stopping.set()
        if self._owns_pool:
            self.pool.shutdown(wait=True)
            self.leases.stop()
