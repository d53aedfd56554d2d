"""``fbs users``: the people who sign in to the merchant console.

Users belong to the config's merchant. Passwords are asked at the terminal (twice) or
read from standard input with ``--password-stdin``, never from the command line.
"""

from __future__ import annotations

import sys

import click

from .context import CliContext
from .database import open_database

ROLES = ("owner", "staff", "viewer")
"""The values of :class:`fbs_core.console.console_users.Role`, spelled out for ``--help``."""


@click.group("users")
def command() -> None:
    """Add, list and remove console users; set passwords; lift lockouts."""


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _now():  # noqa: ANN202 - a datetime
    from datetime import UTC, datetime

    return datetime.now(UTC)


@command.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def add_command(obj: CliContext, username: str, role: str, password_stdin: bool) -> None:
    """Add a user (owner: everything; staff: act on orders; viewer: read)."""
    from ..console.console_users import Role, add_user, check_password

    password = _password(password_stdin)
    check_password(password)
    db = open_database(obj, create=True)
    try:
        with db.transaction() as session:
            add_user(session, obj.settings().merchant_id, username, Role(role), password, _now())
    finally:
        db.dispose()
    click.echo(f"added {username} ({role}) to merchant {obj.settings().merchant_id}")


@command.command("list")
@click.pass_obj
def list_command(obj: CliContext) -> None:
    """List the merchant's users with their role and whether they are locked out."""
    from ..console.console_users import list_users

    db = open_database(obj)
    try:
        with db.transaction() as session:
            users = list_users(session, obj.settings().merchant_id)
    finally:
        db.dispose()
    if not users:
        click.echo("no users; add one with 'fbs users add NAME --role owner'")
    for user in users:
        state = "locked out" if user.locked else "active"
        click.echo(f"{user.username}\t{user.role.value}\t{state}")


@command.command("remove")
@click.argument("username")
@click.pass_obj
def remove_command(obj: CliContext, username: str) -> None:
    """Remove a user; their sessions end at once."""
    from ..console.console_users import remove_user

    db = open_database(obj)
    try:
        with db.transaction() as session:
            remove_user(session, obj.settings().merchant_id, username)
    finally:
        db.dispose()
    click.echo(f"removed {username}")


@command.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def passwd_command(obj: CliContext, username: str, password_stdin: bool) -> None:
    """Set a user's password: ends their sessions and lifts a lockout."""
    from ..console.console_users import check_password, set_password

    password = _password(password_stdin)
    check_password(password)
    db = open_database(obj)
    try:
        with db.transaction() as session:
            set_password(session, obj.settings().merchant_id, username, password)
    finally:
        db.dispose()
    click.echo(f"password of {username} changed")


@command.command("unlock")
@click.argument("username")
@click.pass_obj
def unlock_command(obj: CliContext, username: str) -> None:
    """Lift the lockout wrong passwords put on a user."""
    from ..console.console_users import unlock_named

    db = open_database(obj)
    try:
        with db.transaction() as session:
            unlock_named(session, obj.settings().merchant_id, username)
    finally:
        db.dispose()
    click.echo(f"{username} may sign in again")
