"""Helpers for tests of the console: users, a console on an engine, a served console.

Used by fbs's own tests and by anyone testing a deployment's console: they build the
real app on a real database, nothing is faked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..db.types import utcnow
from ..server import WebhookServer
from .console_app import ConsoleConfig, create_console_app
from .console_serve import console_config
from .console_users import ConsoleUser, Role, add_user

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from ..engine import Engine

PASSWORD = "correct horse battery"
"""The password :func:`add_test_user` gives unless told otherwise."""


def add_test_user(
    engine: Engine, username: str, role: Role = Role.owner, *, merchant_id: str | None = None
) -> ConsoleUser:
    """Add a user of the engine's merchant (or ``merchant_id``) with :data:`PASSWORD`."""
    with engine.db.transaction() as session:
        return add_user(
            session, merchant_id or engine.ctx.merchant_id, username, role, PASSWORD, utcnow()
        )


def engine_console_config(engine: Engine) -> ConsoleConfig:
    """The console config ``fbs console`` would build for the engine's settings."""
    settings = engine.runtime.settings
    return console_config(settings, engine.db, engine.runtime)


def engine_console(engine: Engine) -> Starlette:
    """The console app on the engine's database and runtime."""
    return create_console_app(engine.db, engine_console_config(engine))


def serve_console(engine: Engine) -> WebhookServer:
    """The console served on a free port of 127.0.0.1 (call ``stop()`` when done)."""
    return WebhookServer(engine_console(engine), "127.0.0.1", 0).start()


def chromium_path() -> str:
    """Debian's chromium (``apt-get install chromium``), which the browser tests drive.

    Raises:
        RuntimeError: when it is not installed; the tests fail rather than skip.
    """
    import shutil

    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(
        "the console's browser tests need Debian's chromium: apt-get install chromium"
    )
