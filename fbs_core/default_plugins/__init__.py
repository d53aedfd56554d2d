"""Plugins that ship inside fbs-core and are registered before any entry point.

They hold the core's ``trylast`` defaults for the decision hooks.
"""

from __future__ import annotations

DEFAULT_PLUGINS: tuple[str, ...] = ("fbs_core.default_plugins.decisions",)
"""Dotted module names registered (under that name) in every plugin manager."""
