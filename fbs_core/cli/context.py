"""What every ``fbs`` command shares: settings, plugins and runtime, built lazily once."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from rich.console import Console

from ..config import (
    CONFIG_ENV,
    DEFAULT_CONFIG_NAME,
    PluginSettings,
    Settings,
    find_config,
    load_settings,
)
from ..plugins import FbsPluginManager, Registry, build_registry, build_runtime, make_plugin_manager
from ..runtime import Runtime


class CliContext:
    """Kept in ``click.Context.obj``; each part is built on first use and cached.

    Args:
        config_path: the ``--config`` value (click also fills it from ``FBS_CONFIG``).
    """

    def __init__(self, config_path: str | Path | None = None) -> None:
        self.config_path = config_path
        self._settings: Settings | None = None
        self._pm: FbsPluginManager | None = None
        self._registry: Registry | None = None
        self._runtime: Runtime | None = None

    def settings(self) -> Settings:
        """Find and load the config file (ConfigError if missing or invalid)."""
        if self._settings is None:
            self._settings = load_settings(find_config(self.config_path))
        return self._settings

    def has_config(self) -> bool:
        """Whether a config file was named or ./fbs.toml exists."""
        return bool(
            self.config_path or os.environ.get(CONFIG_ENV) or Path(DEFAULT_CONFIG_NAME).is_file()
        )

    def plugin_manager(self) -> FbsPluginManager:
        """Load plugins, honouring ``[plugins]`` when there is a config file.

        Without any config file (e.g. ``fbs plugins`` in an empty folder) every installed
        plugin is loaded; an invalid config file is still an error.
        """
        if self._pm is None:
            plugins = self.settings().plugins if self.has_config() else PluginSettings()
            self._pm = make_plugin_manager(blocked=plugins.block, modules=plugins.modules)
        return self._pm

    def registry(self) -> Registry:
        """The types provided by the loaded plugins."""
        if self._registry is None:
            self._registry = build_registry(self.plugin_manager())
        return self._registry

    def runtime(self) -> Runtime:
        """One adapter per enabled configured instance (ConfigError listing every problem)."""
        if self._runtime is None:
            self._runtime = build_runtime(self.settings(), self.plugin_manager(), self.registry())
        return self._runtime

    @cached_property
    def console(self) -> Console:
        """Rich console on stdout; wide when not a terminal so piped tables don't wrap."""
        console = Console()
        return console if console.is_terminal else Console(width=max(console.width, 160))

    def close(self) -> None:
        """Close the runtime's adapters, if a runtime was built."""
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
