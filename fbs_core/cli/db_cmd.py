"""``fbs db``: database maintenance."""

from __future__ import annotations

import click

from .context import CliContext
from .database import connect


@click.group("db")
def command() -> None:
    """Manage the fbs database."""


@command.command("upgrade")
@click.pass_obj
def upgrade_command(obj: CliContext) -> None:
    """Create or migrate the database schema to this version of fbs."""
    from ..db.migrate import upgrade

    db, _ = connect(obj.settings())
    try:
        before, after = upgrade(db)
    finally:
        db.dispose()
    if before == after:
        click.echo(f"database already at revision {after}")
    else:
        click.echo(f"database upgraded from {before or 'empty'} to revision {after}")
