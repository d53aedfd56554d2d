"""A plugin whose dependency is missing: importing it raises ImportError."""

import fbs_fake_dependency_that_is_not_installed  # noqa: F401
