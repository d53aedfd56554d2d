"""``fbs check``: validate the config, load plugins and call every instance's ``check()``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import click
from rich.table import Table
from rich.text import Text

from ..config import scrub_secrets, secret_values
from ..errors import AdapterError, UserError
from ..pipeline import stores
from ..plugins import KINDS, PluginFailure
from .context import CliContext
from .database import open_database

log = logging.getLogger("fbs.check")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one instance's ``check()``; ``error`` is None when it passed."""

    instance: str
    kind: str
    type: str
    error: str | None


def run_checks(obj: CliContext) -> list[CheckResult]:
    """Build the runtime (ConfigError on bad config) and check each built adapter."""
    runtime = obj.runtime()
    settings = obj.settings()
    results = []
    for kind in KINDS:
        for name, adapter in getattr(runtime, kind.section).items():
            type_name = getattr(settings, kind.section)[name].type
            try:
                adapter.check()
                error = None
            except AdapterError as exc:
                error = f"{exc.code}: {exc.message}"
            except Exception as exc:  # a plugin bug must not hide the other results
                log.debug("check of %s.%s raised", kind.section, name, exc_info=True)
                error = f"{type(exc).__name__}: {exc}"
            if error is not None:
                options = getattr(settings, kind.section)[name].options
                secrets = secret_values(options) + secret_values(adapter.options)
                error = scrub_secrets(error, secrets)
            results.append(CheckResult(name, kind.name, type_name, error))
    return results


def plugin_failures(obj: CliContext) -> list[PluginFailure]:
    """Failures from loading plugins and from their registration hooks."""
    return [*obj.plugin_manager().failures, *obj.registry().failures]


@click.command("check")
@click.pass_obj
def command(obj: CliContext) -> None:
    """Check the config, the plugins and every configured instance's credentials.

    Exits 2 if the config is invalid, 1 if any instance's check failed, 0 otherwise.
    """
    results = run_checks(obj)
    console = obj.console
    failures = plugin_failures(obj)
    if failures:
        problems = Table("plugin", "distribution", "stage", "error", title="Plugin problems")
        for f in failures:
            dist = f"{f.distribution} {f.version or ''}".strip() if f.distribution else ""
            problems.add_row(*map(Text, (f.plugin, dist, f.stage, f.error)))
        console.print(problems)
    table = Table("instance", "kind", "type", "result", title="Instances")
    for r in results:
        result = "ok" if r.error is None else r.error
        table.add_row(*map(Text, (r.instance, r.kind, r.type, result)))
    console.print(table)
    verify_store_identities(obj)
    failed = [r for r in results if r.error is not None]
    click.echo(f"{len(results) - len(failed)} ok, {len(failed)} failed")
    if failed:
        raise click.exceptions.Exit(1)


def verify_store_identities(obj: CliContext) -> None:
    """Print each channel's store; refuse (StoreIdentityError) what ``fbs run`` would refuse.

    Without a current database there is nothing recorded to compare with.
    """
    identities, failed = stores.collect(obj.runtime().channels)
    for name, identity in identities.items():
        click.echo(f"[channels.{name}] reads the store {identity}")
    for name, error in failed.items():
        click.echo(f"[channels.{name}] could not name its store: {error}")
    try:
        db = open_database(obj)
    except UserError:
        return
    try:
        with db.transaction() as session:
            stores.refuse_conflicts(session, obj.settings().merchant_id, identities)
    finally:
        db.dispose()
