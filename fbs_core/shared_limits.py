"""Partners' limits held across processes: a token bucket and slots in PostgreSQL.

The core's :class:`~fbs_core.ratelimits.Limiter` keeps one process within a remote
account's declared limits. When several ``fbs run`` processes share a PostgreSQL
database, each limiter also passes every call through a :class:`DatabaseGate`, so the
processes *together* stay within:

* ``requests_per_second`` (with ``burst``): a token bucket in ``rate_limit_buckets``.
  A call refills the row at the declared rate from the time it was last touched, on the
  database's own clock (hosts' clocks never matter), and takes one token in the same
  ``UPDATE``; the row lock makes the check and the take one step. When the bucket is
  short the call sleeps until the token will be there and tries again.
* ``max_concurrency``: that many rows in ``rate_limit_slots``. A call holds one slot
  under a lease (claimed with ``FOR UPDATE SKIP LOCKED``) and frees it when it returns;
  a process that dies mid-call leaves a lease that expires after ``SLOT_LEASE_SECONDS``.

The declared cost-point bucket and daily quota stay per process. SQLite deployments
(one host, usually one process) keep the per-process limits only: every call would
otherwise take SQLite's single write lock.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import text

from .db import Database
from .ratelimits import RateLimits

log = logging.getLogger("fbs.ratelimits")

SLOT_LEASE_SECONDS = 300
"""How long a concurrency slot stays held by a call whose process died."""
SLOT_POLL_SECONDS = 0.05
"""How often a call waiting for a free slot looks again."""

_ENSURE_BUCKET = text(
    "INSERT INTO rate_limit_buckets (merchant_id, key, tokens, updated_at) "
    "VALUES (:merchant, :key, :capacity, clock_timestamp()) "
    "ON CONFLICT (merchant_id, key) DO NOTHING"
)
_TAKE = text(
    "WITH b AS (SELECT LEAST(CAST(:capacity AS double precision), tokens + "
    "EXTRACT(EPOCH FROM clock_timestamp() - updated_at) * :rate) AS available "
    "FROM rate_limit_buckets WHERE merchant_id = :merchant AND key = :key FOR UPDATE) "
    "UPDATE rate_limit_buckets SET "
    "tokens = CASE WHEN b.available >= :amount THEN b.available - :amount ELSE b.available END, "
    "updated_at = clock_timestamp() "
    "FROM b WHERE merchant_id = :merchant AND key = :key RETURNING b.available"
)
_ENSURE_SLOTS = text(
    "INSERT INTO rate_limit_slots (merchant_id, key, slot, holder, expires_at) "
    "SELECT :merchant, :key, g, NULL, NULL FROM generate_series(1, :slots) AS g "
    "ON CONFLICT (merchant_id, key, slot) DO NOTHING"
)
_ACQUIRE_SLOT = text(
    "UPDATE rate_limit_slots SET holder = :holder, "
    "expires_at = clock_timestamp() + make_interval(secs => :lease) "
    "WHERE merchant_id = :merchant AND key = :key AND slot = ("
    "SELECT slot FROM rate_limit_slots WHERE merchant_id = :merchant AND key = :key "
    "AND slot <= :slots AND (holder IS NULL OR expires_at < clock_timestamp()) "
    "ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING slot"
)
_RELEASE_SLOT = text(
    "UPDATE rate_limit_slots SET holder = NULL, expires_at = NULL "
    "WHERE merchant_id = :merchant AND key = :key AND slot = :slot AND holder = :holder"
)


class DatabaseGate:
    """One remote account's limits, enforced for every process on the database.

    Args:
        db: the shared PostgreSQL database.
        merchant_id: the merchant whose account this is.
        key: the limiter's key (``<kind>:<rate_limit_key>``).
        limits: what the plugin declared.
        holder: this process's name, written on the slots it holds.
    """

    def __init__(
        self,
        db: Database,
        merchant_id: str,
        key: str,
        limits: RateLimits,
        holder: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.db = db
        self.params = {"merchant": merchant_id, "key": key}
        self.limits = limits
        self.holder = holder
        self._sleep = sleep
        self._ready = False

    def _prepare(self) -> None:
        if self._ready:
            return
        with self.db.transaction() as session:
            if self.limits.requests_per_second:
                session.execute(
                    _ENSURE_BUCKET, {**self.params, "capacity": float(max(self.limits.burst, 1))}
                )
            if self.limits.max_concurrency:
                session.execute(
                    _ENSURE_SLOTS, {**self.params, "slots": self.limits.max_concurrency}
                )
        self._ready = True

    def take_token(self) -> None:
        """Wait until the shared bucket holds a request token, then take it."""
        rate = self.limits.requests_per_second
        if not rate:
            return
        capacity = float(max(self.limits.burst, 1))
        while True:
            with self.db.transaction() as session:
                available = session.execute(
                    _TAKE, {**self.params, "capacity": capacity, "rate": rate, "amount": 1.0}
                ).scalar_one()
            if available >= 1.0:
                return
            self._sleep((1.0 - available) / rate)

    def acquire_slot(self) -> int | None:
        """Wait for a free concurrency slot and hold it; None when no cap is declared."""
        slots = self.limits.max_concurrency
        if not slots:
            return None
        while True:
            with self.db.transaction() as session:
                slot = session.execute(
                    _ACQUIRE_SLOT,
                    {
                        **self.params,
                        "holder": self.holder,
                        "lease": float(SLOT_LEASE_SECONDS),
                        "slots": slots,
                    },
                ).scalar_one_or_none()
            if slot is not None:
                return int(slot)
            self._sleep(SLOT_POLL_SECONDS)

    def release_slot(self, slot: int) -> None:
        """Free a slot this process holds."""
        with self.db.transaction() as session:
            session.execute(_RELEASE_SLOT, {**self.params, "slot": slot, "holder": self.holder})

    @contextmanager
    def call(self) -> Iterator[None]:
        """Hold a shared slot and a shared token for the length of one call."""
        self._prepare()
        slot = self.acquire_slot()
        try:
            self.take_token()
            yield
        finally:
            if slot is not None:
                try:
                    self.release_slot(slot)
                except Exception:  # noqa: BLE001 - the slot's lease expires by itself
                    log.warning(
                        "freeing a rate-limit slot failed; its lease expires", exc_info=True
                    )


def share_limits(
    db: Database, merchant_id: str, holder: str
) -> Callable[[str, RateLimits], DatabaseGate]:
    """The gate factory a limiter registry uses on a shared PostgreSQL database."""

    def gate(key: str, limits: RateLimits) -> DatabaseGate:
        return DatabaseGate(db, merchant_id, key, limits, holder)

    return gate
