"""Find the official API contracts tests are checked against, and skip (or fail) without them.

The contracts live in a ``specs`` folder outside the repository: ``FBS_SPECS_DIR``, else
the first ``shared/specs`` folder above the working directory or above this package.
Where a contract or a tool is missing a test skips with the reason, except when ``CI``
is set: there a missing contract is a failure, so a green CI always means "checked".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def unavailable(reason: str) -> NoReturn:
    """Skip the test for a missing contract or tool; fail instead when ``CI`` is set."""
    if _truthy(os.environ.get("CI")):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def specs_dir() -> Path | None:
    """The specs folder, or None if there is none."""
    if os.environ.get("FBS_SPECS_DIR"):
        return Path(os.environ["FBS_SPECS_DIR"])
    for start in (Path.cwd(), Path(__file__).resolve()):
        for folder in (start, *start.parents):
            if (folder / "shared" / "specs").is_dir():
                return folder / "shared" / "specs"
    return None


def spec_file(relative: str) -> Path:
    """A file of the specs folder (``"stripe/spec3.prism-mock.json"``); skip/fail if absent."""
    folder = specs_dir()
    path = folder / relative if folder else None
    if path is None or not path.is_file():
        unavailable(f"{relative} not found in the specs folder ({folder}); set FBS_SPECS_DIR")
    return path
