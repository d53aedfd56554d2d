"""pytest plugin of the fbs test kit (registered through the ``pytest11`` entry point).

Every fixture here is opt-in (none is autouse), so the plugin is inert in test runs that
do not ask for its fixtures.
"""

from __future__ import annotations

from .database import fbs_database, fbs_database_url  # noqa: F401 - fixtures
from .plugin_fixtures import *  # noqa: F403 - fixtures
