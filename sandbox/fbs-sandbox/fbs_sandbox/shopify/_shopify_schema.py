"""Shopify's official Admin GraphQL schema (2026-10), loaded once per process.

The schema is the introspection result Shopify ships in its ``@shopify/dev-mcp`` npm
package (``shared/specs/shopify/admin_2026-10.json.gz``; see PROVENANCE.md there). It is
read from the specs folder (``FBS_SPECS_DIR``, else the first ``shared/specs`` above the
working directory or this package), never copied into the repository.
``assume_valid=True`` is needed: graphql-core's schema checks reject one deprecation
detail of Shopify's schema that has no bearing on executing documents.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
from pathlib import Path

from graphql import GraphQLSchema, build_client_schema

API_VERSION = "2026-10"
SCHEMA_FILE = f"shopify/admin_{API_VERSION}.json.gz"


class SchemaMissing(RuntimeError):
    """The official schema file is not in the specs folder."""


def schema_path() -> Path:
    """Where the 2026-10 introspection file is; SchemaMissing if it cannot be found."""
    candidates: list[Path] = []
    if os.environ.get("FBS_SPECS_DIR"):
        candidates.append(Path(os.environ["FBS_SPECS_DIR"]))
    for start in (Path.cwd(), Path(__file__).resolve()):
        candidates += [folder / "shared" / "specs" for folder in (start, *start.parents)]
    for folder in candidates:
        if (folder / SCHEMA_FILE).is_file():
            return folder / SCHEMA_FILE
    raise SchemaMissing(f"{SCHEMA_FILE} not found in any specs folder; set FBS_SPECS_DIR")


@functools.cache
def admin_schema() -> GraphQLSchema:
    """The Admin API 2026-10 schema (built once; about half a second)."""
    with gzip.open(schema_path(), "rt", encoding="utf-8") as handle:
        introspection = json.load(handle)
    return build_client_schema(introspection["data"], assume_valid=True)
