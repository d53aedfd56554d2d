"""Opening the configured database from the command line."""

from __future__ import annotations

from ..db import Database
from ..db.engine import sqlite_file
from ..db.migrate import current_revision, head_revision, upgrade
from ..errors import UserError
from .context import CliContext


def open_database(obj: CliContext, *, create: bool = False) -> Database:
    """Open the configured database, checking its schema is current.

    ``create`` migrates a new (empty) database by itself, as ``fbs run`` does; an
    existing database behind this version of fbs must be upgraded on purpose.
    """
    url = obj.settings().database_url
    missing = sqlite_file(url)
    if missing is not None and not missing.exists() and not create:
        raise UserError(
            f"there is no database at {missing}; run 'fbs run' or 'fbs db upgrade' first"
        )
    db = Database(url)
    revision = current_revision(db)
    if revision is None and create:
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
