"""Persistence: the only package that imports SQLAlchemy.

``models`` holds the rows, ``repository`` maps them to domain objects, ``migrate`` keeps
the schema current.
"""

from __future__ import annotations

from .engine import Database

__all__ = ["Database"]
