"""Schema migrations with Alembic, driven from code (``fbs db upgrade``).

Several ``fbs run`` processes may start at once on one empty PostgreSQL database; each
would otherwise create the schema and all but one would fail. An upgrade therefore runs
under a transaction-scoped advisory lock: the first process migrates, the others wait,
then find the schema current and change nothing. SQLite needs no lock of its own: its
write lock (``BEGIN IMMEDIATE``) already serialises the upgrades.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from .engine import Database, sqlite_file

MIGRATIONS = Path(__file__).parent / "migrations"

MIGRATION_LOCK_KEY = 0x0F_B5_5C_7E_3A
"""The PostgreSQL advisory lock every fbs process takes before migrating (any fixed number)."""


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision this version of fbs knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; return (before, after)."""
    with _sqlite_migration_lock(db):
        return _upgrade(db)


@contextmanager
def _sqlite_migration_lock(db: Database) -> Iterator[None]:
    """Serialise SQLite upgrades of one file across processes and threads.

    Three connections opening a new SQLite file at once can each be refused with
    "database is locked" (switching it to WAL takes a lock no busy timeout waits for),
    so upgraders take an exclusive ``flock`` on ``<file>.migrate-lock`` first.
    PostgreSQL uses its advisory lock instead.
    """
    path = sqlite_file(db.url)
    if path is None:
        yield
        return
    with open(f"{path}.migrate-lock", "a+b") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def _upgrade(db: Database) -> tuple[str | None, str]:
    before = current_revision(db)
    config = _alembic_config()
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.begin():
                _lock_migrations(connection)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("a migration left rows pointing at nothing; rolled back")
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, on=True)
    return before, head_revision()


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Switch SQLite's reference checks (only possible outside a transaction).

    Changing a column on SQLite rebuilds its table (copy, drop, rename); with checks on,
    dropping a table other rows point at fails even though the copy takes its place.
    The upgrade checks every reference itself before it commits.
    """
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


@contextmanager
def sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Run a SQLite schema change (an upgrade or a downgrade) with reference checks off.

    Every reference is checked before the block ends; elsewhere this does nothing.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    _sqlite_foreign_keys(connection, on=False)
    try:
        yield
        if connection.exec_driver_sql("PRAGMA foreign_key_check").first():
            raise RuntimeError("a migration left rows pointing at nothing")
    finally:
        _sqlite_foreign_keys(connection, on=True)


def _lock_migrations(connection: Connection) -> None:
    """Wait for any other process's migration; released when this transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def needs_upgrade(db: Database) -> bool:
    """True when the database is behind this version of fbs."""
    return current_revision(db) != head_revision()
