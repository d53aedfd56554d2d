"""The ``fbs`` command line.

Each command lives in its own module, imported only when that command runs: ``fbs --help``
and ``fbs orders list`` must not pay for the web server, the scheduler or Alembic. The
table :data:`COMMANDS` names each module with the one-line help ``fbs --help`` shows.

``--config`` and ``-v`` are accepted before the command and after it (``fbs orders list
--config shop.toml``). A user error (:class:`~fbs_core.errors.FbsError`) prints
``error: <message>`` and exits 2 without a traceback; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import click

from .. import __version__
from ..errors import FbsError
from .context import CliContext

USER_ERROR_EXIT = 2

COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init_cmd", "Write a commented starter config to PATH (default: fbs.toml)."),
    "check": (
        "check_cmd",
        "Check the config, the database, the webhook address and every instance.",
    ),
    "run": ("run_cmd", "Run the fulfillment loop until SIGINT/SIGTERM (or until idle)."),
    "orders": ("orders_cmd", "List, inspect, approve, cancel and retry orders."),
    "plugins": ("plugins_cmd", "List plugins with their distribution, types, hooks and failures."),
    "db": ("db_cmd", "Manage the fbs database."),
    "channels": ("channels_cmd", "Set up a channel's store: subscribe its webhooks to fbs."),
    "console": ("console_cmd", "Serve the merchant console (web pages) until SIGINT/SIGTERM."),
    "users": ("users_cmd", "Add, list and remove console users; set passwords; lift lockouts."),
    "demo": (
        "demo_cmd",
        "Run fbs end to end on 127.0.0.1: a store, Stripe and three warehouses.",
    ),
}
"""Command name → (module in this package, the short help ``fbs --help`` lists)."""

CONFIG_HELP = "Config file (default: $FBS_CONFIG, then ./fbs.toml)."
VERBOSE_HELP = "More log output (-v info, -vv debug)."
CONFIG_DIR_HELP = "A folder of merchant files (one TOML per merchant) served together."
MERCHANT_HELP = "With --config-dir: the merchant (file name or merchant_id) to work on."


def set_log_level(verbose: int) -> None:
    """Log WARNING and up by default, INFO with -v, DEBUG with -vv."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    logging.getLogger("fbs").setLevel(level)


def _late_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(CliContext).config_path = value


def _late_config_dir(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(CliContext).config_dir = value


def _late_merchant(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(CliContext).merchant = value


def _late_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> None:
    if value:
        obj = ctx.ensure_object(CliContext)
        obj.verbose += value
        set_log_level(obj.verbose)


def add_global_options(command: click.Command) -> None:
    """Let ``command`` (and every subcommand) take ``--config`` and ``-v`` after its name."""
    names = {opt for param in command.params for opt in getattr(param, "opts", [])}
    if "--config" not in names:
        command.params.append(
            click.Option(
                ["--config", "late_config"],
                type=click.Path(dir_okay=False),
                expose_value=False,
                callback=_late_config,
                help=CONFIG_HELP,
            )
        )
    if "--config-dir" not in names:
        command.params.append(
            click.Option(
                ["--config-dir", "late_config_dir"],
                type=click.Path(file_okay=False),
                expose_value=False,
                callback=_late_config_dir,
                help=CONFIG_DIR_HELP,
            )
        )
    if "--merchant" not in names:
        command.params.append(
            click.Option(
                ["--merchant", "late_merchant"],
                expose_value=False,
                callback=_late_merchant,
                help=MERCHANT_HELP,
            )
        )
    if "--verbose" not in names:
        command.params.append(
            click.Option(
                ["-v", "--verbose", "late_verbose"],
                count=True,
                expose_value=False,
                callback=_late_verbose,
                help=VERBOSE_HELP,
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_global_options(sub)


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


class LazyFbsGroup(FbsGroup):
    """The ``fbs`` group: imports a command's module the first time the command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command, loaded or not, in the order of :data:`COMMANDS`."""
        return list(dict.fromkeys([*COMMANDS, *self.commands]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, importing its module on first use."""
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(f"{__name__}.{COMMANDS[cmd_name][0]}")
            command: click.Command = module.command
            add_global_options(command)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their short help without importing them."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                text = loaded.get_short_help_str(limit)
            else:
                text = _shorten(COMMANDS[name][1], limit)
            rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _shorten(text: str, limit: int) -> str:
    """``text`` cut at a word to fit ``limit`` characters, ending in ``...`` when cut."""
    if len(text) <= limit:
        return text
    words: list[str] = []
    for word in text.split():
        if len(" ".join([*words, word])) + 3 > limit:
            break
        words.append(word)
    return " ".join(words) + "..."


@click.group(cls=LazyFbsGroup)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--config-dir", "config_dir", type=click.Path(file_okay=False), help=CONFIG_DIR_HELP)
@click.option("--merchant", "merchant", help=MERCHANT_HELP)
@click.option("-v", "--verbose", count=True, help=VERBOSE_HELP)
@click.version_option(__version__, prog_name="fbs")
@click.pass_context
def main(
    ctx: click.Context,
    config_path: str | None,
    config_dir: str | None,
    merchant: str | None,
    verbose: int,
) -> None:
    """fbs: drop-ship fulfillment broker for auto-parts sellers.

    --config, --config-dir, --merchant and -v may also follow the command:
    fbs orders list --config-dir merchants/ --merchant acme
    """
    set_log_level(verbose)
    obj = CliContext(config_path=config_path, config_dir=config_dir, merchant=merchant)
    obj.verbose = verbose
    ctx.obj = obj
    ctx.call_on_close(obj.close)


def load_all_commands() -> dict[str, click.Command]:
    """Import every command module (for documentation checks); name → command."""
    ctx = click.Context(main)
    return {
        name: command
        for name in main.list_commands(ctx)
        if (command := main.get_command(ctx, name)) is not None
    }


__all__ = ["COMMANDS", "CliContext", "FbsGroup", "load_all_commands", "main"]
