"""fbs: a drop-ship fulfillment broker for auto-parts sellers.

Plugin authors import :data:`hookimpl` from here first::

    import fbs_core

    @fbs_core.hookimpl
    def fbs_suppliers():
        ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

PROJECT_NAME = "fbs"

if TYPE_CHECKING:
    import pluggy

    hookimpl: pluggy.HookimplMarker
    """Decorator for plugin hook implementations: ``@fbs_core.hookimpl``."""


def __getattr__(name: str) -> Any:
    """Create :data:`hookimpl` on first use, so ``fbs --help`` does not import pluggy."""
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker(PROJECT_NAME)
        globals()["hookimpl"] = marker
        return marker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PROJECT_NAME", "__version__", "hookimpl"]
