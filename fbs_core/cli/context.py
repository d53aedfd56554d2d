"""What every ``fbs`` command shares: settings, plugins and runtime, built lazily once.

Nothing heavy is imported at module level: a command pays only for what it uses.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from ..config import Settings
    from ..plugins import FbsPluginManager, Registry
    from ..runtime import Runtime


class CliContext:
    """Kept in ``click.Context.obj``; each part is built on first use and cached.

    Args:
        config_path: the ``--config`` value, if given (``FBS_CONFIG`` is read when the
            file is looked for, so errors can say where a name came from).
        config_dir: the ``--config-dir`` value: a folder of merchant files, of which
            ``merchant`` (``--merchant``) names the one a command works on.
    """

    def __init__(
        self,
        config_path: str | Path | None = None,
        config_dir: str | Path | None = None,
        merchant: str | None = None,
    ) -> None:
        self.config_path = config_path
        self.config_dir = config_dir
        self.merchant = merchant
        self.verbose = 0
        self._settings: Settings | None = None
        self._settings_with_secrets: Settings | None = None
        self._pm: FbsPluginManager | None = None
        self._registry: Registry | None = None
        self._runtime: Runtime | None = None

    def settings(self) -> Settings:
        """Find and load the config file (ConfigError if missing or invalid).

        Secret references are checked but not read: commands that only read the database
        work without the secrets' environment variables. :meth:`runtime` reads them.
        """
        if self._settings is None:
            if self._settings_with_secrets is not None:
                return self._settings_with_secrets
            self._settings = self._load(resolve_secrets=False)
        return self._settings

    def settings_with_secrets(self) -> Settings:
        """The settings with every ``{ env = "NAME" }`` read (ConfigError if one is unset)."""
        if self._settings_with_secrets is None:
            self._settings_with_secrets = self._load(resolve_secrets=True)
        return self._settings_with_secrets

    def _load(self, *, resolve_secrets: bool) -> Settings:
        """The ``--config`` file, or ``--merchant``'s file in ``--config-dir``."""
        from ..errors import ConfigError

        if self.config_dir is not None:
            if self.config_path is not None:
                raise ConfigError("give --config or --config-dir, not both")
            from ..merchant_folder import find_merchant_file, load_merchant

            path = find_merchant_file(Path(self.config_dir), self.merchant)
            return load_merchant(path, resolve_secrets=resolve_secrets)
        if self.merchant is not None:
            raise ConfigError("--merchant names a merchant of a --config-dir folder")
        from ..config import find_config, load_settings

        return load_settings(find_config(self.config_path), resolve_secrets=resolve_secrets)

    def has_config(self) -> bool:
        """Whether a config file was named or ./fbs.toml exists."""
        from ..config import CONFIG_ENV, DEFAULT_CONFIG_NAME

        return bool(
            self.config_path
            or self.config_dir
            or os.environ.get(CONFIG_ENV)
            or Path(DEFAULT_CONFIG_NAME).is_file()
        )

    def plugin_manager(self) -> FbsPluginManager:
        """Load plugins, honouring ``[plugins]`` when there is a config file.

        Without any config file (e.g. ``fbs plugins`` in an empty folder) every installed
        plugin is loaded; an invalid config file is still an error.
        """
        if self._pm is None:
            from ..config import PluginSettings
            from ..plugins import make_plugin_manager

            plugins = self.settings().plugins if self.has_config() else PluginSettings()
            self._pm = make_plugin_manager(blocked=plugins.block, modules=plugins.modules)
        return self._pm

    def registry(self) -> Registry:
        """The types provided by the loaded plugins."""
        if self._registry is None:
            from ..plugins import build_registry

            self._registry = build_registry(self.plugin_manager())
        return self._registry

    def runtime(self) -> Runtime:
        """One adapter per enabled configured instance (ConfigError listing every problem).

        Only the commands that call a remote service build a runtime, so only they need
        the secrets' environment variables.
        """
        if self._runtime is None:
            from ..plugins import build_runtime

            settings = self.settings_with_secrets()
            self._runtime = build_runtime(settings, self.plugin_manager(), self.registry())
        return self._runtime

    @cached_property
    def console(self) -> Console:
        """Rich console on stdout; wide when not a terminal so piped tables don't wrap."""
        from rich.console import Console

        console = Console()
        return console if console.is_terminal else Console(width=max(console.width, 160))

    @cached_property
    def err_console(self) -> Console:
        """Rich console on stderr, for progress displays."""
        from rich.console import Console

        return Console(stderr=True)

    def close(self) -> None:
        """Close the runtime's adapters, if a runtime was built."""
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None
