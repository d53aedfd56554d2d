"""Many merchants in one process: one engine per merchant file, one pool, fair turns.

``fbs run --config-dir DIR`` serves every merchant file of a folder (see
:mod:`fbs_core.merchant_folder`) from one process and one database. The design keeps the
per-merchant :class:`~fbs_core.engine.Engine` exactly as it is (its runtime, pipeline
context and claims are all scoped by merchant id in the database) and adds only what a
deployment shares:

* **one worker pool and one lease keeper**, passed to every engine;
* **fair turns**: a tick polls the merchants' due instances and then drains the outbox,
  both in rounds of at most one pool's worth, one round per merchant in turn, so one
  merchant's backlog (of orders or of stores due) never keeps another merchant's work
  waiting longer than one round of the backlogged merchant;
* **reloads without a restart**: on SIGHUP and whenever the folder's files change (the
  folder is looked at every tick), an added file starts a merchant, a removed one stops
  it, a changed one replaces it. A file is validated fully (config, plugin options,
  store identity) before anything is replaced; a bad file is logged with file, key and
  problem and its merchant keeps running on its last good config.

Reloads happen inside the tick, between rounds, so no engine is replaced while its work
is in the pool.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from .config import Settings, display_path
from .db import Database
from .db.types import utcnow
from .engine import Engine, LeaseKeeper, Progress
from .errors import ConfigError
from .merchant_folder import MerchantFile, deployment_problems, load_merchant, merchant_files
from .plugins import build_registry, build_runtime, make_plugin_manager
from .runtime import Runtime

log = logging.getLogger("fbs.fleet")

RuntimeBuilder = Callable[[Settings], Runtime]


def build_merchant_runtime(settings: Settings) -> Runtime:
    """Plugins and adapters for one merchant file, honouring its ``[plugins]``."""
    pm = make_plugin_manager(blocked=settings.plugins.block, modules=settings.plugins.modules)
    return build_runtime(settings, pm, build_registry(pm))


@dataclass
class Merchant:
    """One merchant the fleet serves: the file it came from and its running engine."""

    file: MerchantFile
    settings: Settings
    engine: Engine


@dataclass
class Fleet:
    """Every merchant of a config folder, served from one pool against one database.

    Args:
        directory: the config folder.
        db: the deployment's database (every merchant file must name it).
        deployment: the settings whose shared parts (database, server, pool, tick)
            every merchant file must agree with; see :func:`open_fleet`.
        build: builds a merchant's runtime from its settings (tests pass their own).
        clock: the time source of every engine.
    """

    directory: Path
    db: Database
    deployment: Settings
    build: RuntimeBuilder = build_merchant_runtime
    clock: Callable[[], datetime] = utcnow
    merchants: dict[str, Merchant] = field(default_factory=dict)
    """Merchant id → the merchant as last loaded successfully."""
    problems: dict[Path, str] = field(default_factory=dict)
    """File → why its latest version was refused (empty once it loads)."""
    on_wake: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        scheduler = self.deployment.scheduler
        self.workers = scheduler.workers
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="fbs-worker")
        self.leases = LeaseKeeper(self.db, scheduler.lease_seconds, self.clock)
        self.progress = Progress()
        self._seen: dict[Path, MerchantFile] = {}
        self._reload = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    # -- loading --------------------------------------------------------------------

    def request_reload(self) -> None:
        """Re-read the folder at the next turn (SIGHUP); safe from a signal handler."""
        self._reload.set()
        if self.on_wake is not None:
            self.on_wake()

    def reload(self) -> list[str]:
        """Start, replace or stop merchants for files added, changed or removed.

        Returns the problems of the files refused in this pass (each line names the
        file, the key and the problem); their merchants keep their last good config.
        """
        with self._lock:
            self._reload.clear()
            current = merchant_files(self.directory)
            refused: list[str] = []
            by_file = {m.file.path: mid for mid, m in self.merchants.items()}
            for path in [p for p in self._seen if p not in current]:
                self._seen.pop(path)
                self.problems.pop(path, None)
                if path in by_file:
                    self._stop_merchant(by_file[path], why="its file was removed")
            for path, seen in current.items():
                if self._seen.get(path) == seen:
                    continue
                self._seen[path] = seen
                problem = self._load(seen, by_file.get(path))
                if problem is None:
                    self.problems.pop(path, None)
                else:
                    self.problems[path] = problem
                    refused.append(problem)
                    for line in problem.splitlines():
                        log.error("merchant file refused, last good config kept: %s", line)
            return refused

    def _load(self, file: MerchantFile, previous_id: str | None) -> str | None:
        """Load one file and swap its merchant in; the problem text if it was refused."""
        try:
            settings = load_merchant(file.path)
        except ConfigError as exc:
            return str(exc)
        problems = deployment_problems(settings, self.deployment)
        other = self.merchants.get(settings.merchant_id)
        if other is not None and other.file.path != file.path:
            problems.append(
                f"{display_path(file.path)}: merchant_id: {settings.merchant_id!r} is already "
                f"served from {display_path(other.file.path)}"
            )
        if problems:
            return "\n".join(problems)
        try:
            runtime = self.build(settings)
        except ConfigError as exc:
            return str(exc)
        engine = Engine(
            runtime,
            self.db,
            clock=self.clock,
            owner=self.owner,
            pool=self.pool,
            leases=self.leases,
            on_wake=self._wake,
        )
        try:
            engine.prepare()
        except ConfigError as exc:
            runtime.close()
            return f"{display_path(file.path)}: {exc}"
        if previous_id is not None:
            self._stop_merchant(previous_id, why="its file changed")
        self.merchants[settings.merchant_id] = Merchant(file, settings, engine)
        log.info("serving merchant %s from %s", settings.merchant_id, display_path(file.path))
        return None

    def _stop_merchant(self, merchant_id: str, *, why: str) -> None:
        merchant = self.merchants.pop(merchant_id)
        merchant.engine.stop()  # shared pool: only marks it stopping
        merchant.engine.runtime.close()
        log.info("stopped serving merchant %s: %s", merchant_id, why)

    def _wake(self) -> None:
        if self.on_wake is not None:
            self.on_wake()

    def _maybe_reload(self) -> None:
        """Reload when asked (SIGHUP) or when a file of the folder changed."""
        if self._reload.is_set() or merchant_files(self.directory) != self._seen:
            self.reload()

    # -- work -----------------------------------------------------------------------

    def engines(self) -> list[Engine]:
        """Every merchant's engine, in merchant-id order."""
        return [self.merchants[mid].engine for mid in sorted(self.merchants)]

    def poll_due(self, *, force: bool = False) -> int:
        """Every merchant's due polls, a pool's worth per merchant in turn; return the changes.

        A merchant with thousands of stores due gets one round per turn like the others,
        so its polls never keep another merchant's waiting for more than a round.
        """
        remaining = {}
        for engine in self.engines():
            engine.begin_polls(force=force)
            remaining[engine] = engine.instances()
        changed = 0
        while remaining and not self._stopping.is_set():
            for engine, unpolled in list(remaining.items()):
                left, found = engine.poll_round(unpolled)
                if found is None or not left:
                    del remaining[engine]
                else:
                    remaining[engine] = left
                if found is not None:
                    engine.progress.changes += found
                    changed += found
        self.progress.polls = sum(e.progress.polls for e in self.engines())
        return changed

    def drain_cycle(self) -> int:
        """One round per merchant with due commands, in turn; return how many ran.

        A round is at most one pool's worth of commands, so a merchant's new order waits
        for at most one round of each other merchant however long their backlogs are.
        """
        executed = 0
        for engine in self.engines():
            if self._stopping.is_set():
                break
            executed += engine.drain_round(self.workers)
        self.progress.commands += executed
        return executed

    def drain(self, *, max_seconds: float | None = None) -> int:
        """Cycles of fair rounds until nothing is due (or time is up); return how many ran."""
        deadline = None if max_seconds is None else self.clock() + timedelta(seconds=max_seconds)
        executed = 0
        while not self._stopping.is_set():
            ran = self.drain_cycle()
            executed += ran
            if not ran or (deadline is not None and self.clock() >= deadline):
                break
            if self._reload.is_set():
                self.reload()
        return executed

    def tick(self) -> int:
        """One scheduler period for every merchant: reload, polls, ship-by watch, outbox."""
        if self._stopping.is_set():
            return 0
        self._maybe_reload()
        changed = self.poll_due()
        changed += sum(engine.watch_ship_by() for engine in self.engines())
        tick = self.deployment.scheduler.tick_seconds
        return changed + self.drain(max_seconds=max(tick * 10, 5.0))

    def run_until_idle(self, *, max_passes: int = 1000) -> Progress:
        """Poll every merchant's instances and drain, repeating while anything changes."""
        for _ in range(max_passes):
            if self._stopping.is_set():
                break
            self.progress.passes += 1
            self._maybe_reload()
            changed = self.poll_due(force=True)
            changed += sum(engine.watch_ship_by() for engine in self.engines())
            executed = self.drain()
            backlogged = any(engine.ctx.backlogged for engine in self.engines())
            if changed == 0 and executed == 0 and not backlogged:
                break
        self.progress.changes = sum(e.progress.changes for e in self.engines())
        return self.progress

    def stop(self) -> None:
        """Finish the work in hand, close every merchant's adapters; safe to call twice."""
        self._stopping.set()
        for merchant_id in list(self.merchants):
            self._stop_merchant(merchant_id, why="fbs is stopping")
        self.pool.shutdown(wait=True)
        self.leases.stop()


def open_fleet(
    directory: Path,
    db_for: Callable[[Settings], Database],
    *,
    build: RuntimeBuilder = build_merchant_runtime,
    clock: Callable[[], datetime] = utcnow,
) -> Fleet:
    """Load a config folder: the first valid file (by name) sets the deployment's shared parts.

    ``db_for`` opens the database the deployment settings name. Files refused at start
    are in ``fleet.problems`` (and logged); the fleet serves the others.

    Raises:
        ConfigError: the folder is missing, or no file in it is a valid merchant file.
    """
    files = merchant_files(directory)
    problems: list[str] = []
    deployment = None
    for path in files:
        try:
            deployment = load_merchant(path)
            break
        except ConfigError as exc:
            problems.append(str(exc))
    if deployment is None:
        shown = display_path(Path(directory))
        detail = "\n".join(problems) or f"{shown}: no merchant files (*.toml) in the config folder"
        raise ConfigError(detail)
    fleet = Fleet(Path(directory), db_for(deployment), deployment, build=build, clock=clock)
    fleet.reload()
    return fleet
