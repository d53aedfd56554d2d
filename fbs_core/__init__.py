"""fbs: a drop-ship fulfillment broker for auto-parts sellers.

Plugin authors import :data:`hookimpl` from here first::

    import fbs_core

    @fbs_core.hookimpl
    def fbs_suppliers():
        ...
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

PROJECT_NAME = "fbs"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Decorator for plugin hook implementations: ``@fbs_core.hookimpl``."""

__all__ = ["PROJECT_NAME", "__version__", "hookimpl"]
