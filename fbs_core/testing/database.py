"""Fixtures for a real, empty, migrated database per test.

SQLite by default (a file in the test's temporary folder); set ``FBS_TEST_DATABASE_URL``
(e.g. ``postgresql://postgres@127.0.0.1:5432/test``) to run the same tests on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..db import Database
from ..db.migrate import upgrade
from ..db.models import Base


def reset_database(url: str) -> None:
    """Drop every fbs table (and Alembic's version table) so a test starts empty."""
    db = Database(url)
    try:
        with db.engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    finally:
        db.dispose()


@pytest.fixture
def fbs_database_url(tmp_path: Path) -> Iterator[str]:
    """A database URL for this test: ``FBS_TEST_DATABASE_URL`` emptied, else a new SQLite file."""
    shared = os.environ.get("FBS_TEST_DATABASE_URL")
    if shared:
        reset_database(shared)
        yield shared
        reset_database(shared)
    else:
        yield f"sqlite:///{tmp_path / 'fbs-test.db'}"


@pytest.fixture
def fbs_database(fbs_database_url: str) -> Iterator[Database]:
    """A migrated :class:`~fbs_core.db.Database` for this test."""
    db = Database(fbs_database_url)
    upgrade(db)
    try:
        yield db
    finally:
        db.dispose()
