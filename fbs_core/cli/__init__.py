"""The ``fbs`` command line.

Each command lives in its own module and is added to :data:`main` below. A user error
(:class:`~fbs_core.errors.FbsError`) prints ``error: <message>`` and exits 2 without a
traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from .. import __version__
from ..errors import FbsError
from .context import CliContext

USER_ERROR_EXIT = 2


class FbsGroup(click.Group):
    """A click group that turns fbs's own errors into one clean message per problem."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; print FbsError lines as ``error: ...`` and exit 2."""
        try:
            return super().invoke(ctx)
        except FbsError as exc:
            for line in (str(exc) or type(exc).__name__).splitlines():
                click.echo(f"error: {line}", err=True)
            raise click.exceptions.Exit(USER_ERROR_EXIT) from None


@click.group(cls=FbsGroup)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="FBS_CONFIG",
    help="Config file (default: $FBS_CONFIG, then ./fbs.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(__version__, prog_name="fbs")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """fbs: drop-ship fulfillment broker for auto-parts sellers."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("fbs").setLevel(level)
    obj = CliContext(config_path=config_path)
    ctx.obj = obj
    ctx.call_on_close(obj.close)


def _add_commands() -> None:
    # One line per command module; each exposes ``command`` (a click command or group).
    from . import check_cmd, db_cmd, demo_cmd, init_cmd, orders_cmd, plugins_cmd, run_cmd

    for module in (init_cmd, check_cmd, run_cmd, orders_cmd, plugins_cmd, db_cmd, demo_cmd):
        main.add_command(module.command)


_add_commands()

__all__ = ["CliContext", "main"]
