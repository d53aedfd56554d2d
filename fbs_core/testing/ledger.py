"""A record of side effects by idempotency key, to prove each happened once in effect.

The fakes write every charge, refund, purchase order, tracking push and acknowledgement
here. In memory by default; with a file path it is a SQLite file, so a test can count
effects across processes that were killed and restarted.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS effects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    target TEXT NOT NULL,
    payload TEXT NOT NULL,
    result TEXT NOT NULL,
    calls INTEGER NOT NULL,
    UNIQUE (kind, key)
)
"""


@dataclass(frozen=True)
class Effect:
    """One effect: its first payload and result, and how many calls asked for it."""

    seq: int
    kind: str
    key: str
    target: str
    payload: dict[str, Any]
    result: dict[str, Any]
    calls: int


class EffectLedger:
    """Thread- and process-safe effect counter keyed by (kind, idempotency key)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or ":memory:"
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, timeout=30, check_same_thread=False, isolation_level=None
        )
        if path:
            self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)

    def record(
        self, kind: str, key: str, *, target: str, payload: dict[str, Any], result: dict[str, Any]
    ) -> tuple[Effect, bool]:
        """Count a call; return the effect as first recorded and whether this call created it."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT seq FROM effects WHERE kind = ? AND key = ?", (kind, key)
                ).fetchone()
                if row is None:
                    self._conn.execute(
                        "INSERT INTO effects (kind, key, target, payload, result, calls) VALUES (?, ?, ?, ?, ?, 1)",
                        (
                            kind,
                            key,
                            target,
                            json.dumps(payload, sort_keys=True),
                            json.dumps(result),
                        ),
                    )
                    created = True
                else:
                    self._conn.execute(
                        "UPDATE effects SET calls = calls + 1 WHERE seq = ?", (row[0],)
                    )
                    created = False
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        effect = self.get(kind, key)
        assert effect is not None
        return effect, created

    def get(self, kind: str, key: str) -> Effect | None:
        """The effect recorded for (kind, key), if any."""
        with self._lock:
            row = self._conn.execute(
                "SELECT seq, kind, key, target, payload, result, calls FROM effects WHERE kind = ? AND key = ?",
                (kind, key),
            ).fetchone()
        return _effect(row) if row else None

    def effects(self, kind: str, *, target: str | None = None, after_seq: int = 0) -> list[Effect]:
        """Effects of one kind in the order they first happened."""
        query = "SELECT seq, kind, key, target, payload, result, calls FROM effects WHERE kind = ? AND seq > ?"
        args: list[Any] = [kind, after_seq]
        if target is not None:
            query += " AND target = ?"
            args.append(target)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY seq", args).fetchall()
        return [_effect(row) for row in rows]

    def count(self, kind: str) -> int:
        """How many distinct effects of this kind happened."""
        return len(self.effects(kind))

    def calls(self, kind: str) -> int:
        """How many calls asked for effects of this kind (replays included)."""
        return sum(effect.calls for effect in self.effects(kind))

    def close(self) -> None:
        """Close the underlying connection."""
        self._conn.close()


def _effect(row: tuple[Any, ...]) -> Effect:
    seq, kind, key, target, payload, result, calls = row
    return Effect(seq, kind, key, target, json.loads(payload), json.loads(result), calls)


_SHARED: dict[str, EffectLedger] = {}
_SHARED_LOCK = threading.Lock()


def shared_ledger(name: str = "default", path: str | None = None) -> EffectLedger:
    """The process-wide ledger called ``name`` (file-backed when ``path`` is given)."""
    with _SHARED_LOCK:
        key = path or name
        if key not in _SHARED:
            _SHARED[key] = EffectLedger(path)
        return _SHARED[key]


def forget_shared_ledgers() -> None:
    """Drop every process-wide ledger (between tests)."""
    with _SHARED_LOCK:
        for ledger in _SHARED.values():
            ledger.close()
        _SHARED.clear()
