"""Opening the configured database from the command line.

Every way a database can fail to open (a driver fbs does not ship, a URL it cannot parse,
a server that refuses, a database or folder that does not exist) becomes one
:class:`~fbs_core.errors.UserError` line naming the config file and ``database_url``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from .context import CliContext

if TYPE_CHECKING:
    from ..config import Settings
    from ..db import Database


MIGRATION_VERSIONS = Path(__file__).resolve().parent.parent / "db" / "migrations" / "versions"
_REVISION_LINE = re.compile(r"^(revision|down_revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.M)


def head_revision() -> str:
    """The newest schema revision, read from the migration files without importing Alembic.

    Alembic costs about a second to import and only ``fbs run`` and ``fbs db upgrade``
    need it to migrate; reading the revision a command expects needs only the files' two
    header lines. Anything unusual (several heads, a line this cannot read) asks Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in MIGRATION_VERSIONS.glob("*.py"):
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            ids = set(re.findall(r"[\"']([^\"']+)[\"']", value))
            if name == "revision":
                if len(ids) != 1:
                    return _alembic_head()
                revisions |= ids
            else:
                parents |= ids
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else _alembic_head()


def _alembic_head() -> str:
    from ..db.migrate import head_revision as alembic_head

    return alembic_head()


def current_revision(db: Database) -> str | None:
    """The revision recorded in the database (None when it has no schema yet)."""
    from sqlalchemy import inspect, text

    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@dataclass(frozen=True)
class DatabaseState:
    """What ``fbs check`` reports about the database: its revision and this fbs's."""

    revision: str | None
    """The schema revision the database is at; None for a new or empty database."""
    head: str
    """The revision this version of fbs needs."""

    def describe(self) -> str:
        """One line for ``fbs check``."""
        if self.revision is None:
            return "empty; 'fbs run' creates the schema"
        if self.revision == self.head:
            return f"at revision {self.revision} (current)"
        return f"at revision {self.revision}, this fbs needs {self.head}"


def _problem(settings: Settings, text: str) -> UserError:
    from ..config import DATABASE_URL_ENV, display_path

    key = "database_url"
    if os.environ.get(DATABASE_URL_ENV):
        key = f"database_url (from {DATABASE_URL_ENV})"
    return UserError(f"{display_path(settings.config_path)}: {key}: {text}")


def _first_line(exc: BaseException) -> str:
    """The driver's own explanation, without SQLAlchemy's statement and background link."""
    original = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    return lines[0] if lines else type(original).__name__


def sqlite_path(settings: Settings) -> Path | None:
    """The SQLite file of ``database_url`` (None for other databases); UserError if unreadable."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..db.engine import sqlite_file

    try:
        return sqlite_file(settings.database_url)
    except (SQLAlchemyError, ValueError):
        raise _problem(settings, "not a database URL fbs can read") from None


def connect(settings: Settings) -> tuple[Database, str | None]:
    """Open the database and read its revision; UserError naming the file and key if it fails.

    A SQLite file that does not exist yet is fine when its folder exists: it is created.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from ..db import Database

    url = settings.database_url
    missing = sqlite_path(settings)
    if missing is not None and not missing.parent.is_dir():
        raise _problem(settings, f"the folder {missing.parent} does not exist")
    try:
        db = Database(url)
    except (SQLAlchemyError, ValueError, ImportError) as exc:
        raise _problem(settings, f"cannot use this URL: {_first_line(exc)}") from None
    try:
        return db, current_revision(db)
    except SQLAlchemyError as exc:
        db.dispose()
        raise _problem(settings, f"cannot open the database: {_first_line(exc)}") from None


def database_state(obj: CliContext) -> DatabaseState:
    """Open the database only to read its revision (``fbs check``); create nothing."""
    settings = obj.settings()
    missing = sqlite_path(settings)
    if missing is not None and missing.parent.is_dir() and not missing.exists():
        return DatabaseState(None, head_revision())
    db, revision = connect(settings)
    db.dispose()
    return DatabaseState(revision, head_revision())


def open_database(
    obj: CliContext, *, create: bool = False, settings: Settings | None = None
) -> Database:
    """Open the configured database (or ``settings``'), checking its schema is current.

    ``create`` migrates a new (empty) database by itself, as ``fbs run`` does; an
    existing database behind this version of fbs must be upgraded on purpose.
    """
    settings = settings or obj.settings()
    missing = sqlite_path(settings) if not create else None
    if missing is not None and missing.parent.is_dir() and not missing.exists():
        raise UserError(
            f"there is no database at {missing}; run 'fbs run' or 'fbs db upgrade' first"
        )
    db, revision = connect(settings)
    if revision is None and create:
        from ..db.migrate import upgrade

        upgrade(db)
    elif revision is None:
        db.dispose()
        raise UserError("the database is empty; run 'fbs db upgrade' (or 'fbs run') first")
    elif revision != head_revision():
        db.dispose()
        raise UserError(
            f"the database schema is at revision {revision}, this fbs needs {head_revision()}; "
            "run 'fbs db upgrade'"
        )
    return db
