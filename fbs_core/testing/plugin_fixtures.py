"""pytest fixtures for testing plugin loading: a fresh manager and fake installed dists.

A fake distribution is a folder holding ``<name>-<version>.dist-info/`` (``METADATA`` and
an ``entry_points.txt`` with an ``[fbs]`` section) and the modules it points at, beside
it: putting the folder on ``sys.path`` makes it look installed (conda's trick).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ..plugins import FbsPluginManager, make_plugin_manager

__all__ = ["fbs_pm", "installed_fake_dist"]


@pytest.fixture
def fbs_pm() -> FbsPluginManager:
    """A fresh plugin manager with fbs's hookspecs and built-ins, and no entry points."""
    return make_plugin_manager(load_entrypoints=False)


@pytest.fixture
def installed_fake_dist(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[str | Path], Path]]:
    """Return ``install(folder)``: make a fake-distribution folder look installed.

    Only for the current test: afterwards the folder leaves ``sys.path`` and modules
    imported from it leave ``sys.modules``, so the next test imports them afresh.

    Example:
        .. code-block:: python

            def test_loads(installed_fake_dist):
                installed_fake_dist(Path(__file__).parent / "data" / "fake-dist")
                pm = make_plugin_manager()
    """
    folders: list[Path] = []

    def install(folder: str | Path) -> Path:
        path = Path(folder).resolve()
        if not path.is_dir():
            raise FileNotFoundError(f"fake distribution folder {path} does not exist")
        monkeypatch.syspath_prepend(str(path))
        importlib.invalidate_caches()
        folders.append(path)
        return path

    yield install

    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and any(Path(file).resolve().is_relative_to(f) for f in folders):
            del sys.modules[name]
    importlib.invalidate_caches()
