"""``fbs check``: config, database, webhook address, plugins and every instance's check.

It validates the config, opens the database, probes the webhook address, loads plugins
and calls every instance's ``check()``. Instances are checked at once, each in its own
daemon thread with a time limit, so a store that never answers costs one timeout, not one
per instance, and cannot keep fbs from exiting. Each result is printed on stderr as it
arrives.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from ..config import INSTANCE_SECTIONS, display_path, scrub_secrets, secret_values
from ..db import repository as repo
from ..errors import AdapterError, UserError
from ..pipeline import instance_memory, stores
from ..plugins import KINDS, PluginFailure
from .context import CliContext
from .database import database_state, open_database
from .server_address import server_address_problem

log = logging.getLogger("fbs.check")

DEFAULT_TIMEOUT_SECONDS = 10.0
CONFIG_PROBLEM_EXIT = 2
CHECK_FAILED_EXIT = 1


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one instance's ``check()``; ``error`` is None when it passed."""

    instance: str
    kind: str
    type: str
    error: str | None
    note: str | None = None
    """What the instance's check had to say when it passed."""

    @property
    def shown(self) -> str:
        """The result as printed: the error, or ok with the check's note."""
        if self.error is not None:
            return self.error
        return f"ok ({self.note})" if self.note else "ok"


def _check_one(adapter: Any, secrets: list[str]) -> tuple[str | None, str | None]:
    """Call ``adapter.check()``; (None, its note) when it passed, else (one masked line, None)."""
    try:
        note = adapter.check()
        return None, scrub_secrets(str(note), secrets) if note else None
    except AdapterError as exc:
        error = f"{exc.code}: {exc.message}"
    except Exception as exc:  # a plugin bug must not hide the other results
        log.debug("check of %s raised", adapter.name, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
    return scrub_secrets(error, secrets), None


def run_checks(
    obj: CliContext,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    on_result: Callable[[CheckResult], None] | None = None,
) -> list[CheckResult]:
    """Build the runtime (ConfigError on bad config) and check every adapter at once.

    An instance that has not answered after ``timeout`` seconds is reported as timed out;
    its thread is left to finish (or not) on its own.
    """
    runtime = obj.runtime()
    settings = runtime.settings
    load_states(obj)
    jobs = []
    for kind in KINDS:
        for name, adapter in getattr(runtime, kind.section).items():
            configured = getattr(settings, kind.section)[name]
            secrets = secret_values(configured.options) + secret_values(adapter.options)
            secrets += sorted(instance_memory.secret_values(adapter))
            jobs.append((CheckResult(name, kind.name, configured.type, None), adapter, secrets))

    answers: queue.Queue[tuple[int, tuple[str | None, str | None]]] = queue.Queue()

    def work(index: int, adapter: Any, secrets: list[str]) -> None:
        answers.put((index, _check_one(adapter, secrets)))

    for index, (result, adapter, secrets) in enumerate(jobs):
        threading.Thread(
            target=work,
            args=(index, adapter, secrets),
            name=f"fbs-check-{result.instance}",
            daemon=True,
        ).start()

    finished: dict[int, CheckResult] = {}
    deadline = time.monotonic() + timeout
    while len(finished) < len(jobs):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            index, (error, note) = answers.get(timeout=remaining)
        except queue.Empty:
            break
        finished[index] = dataclasses.replace(jobs[index][0], error=error, note=note)
        if on_result is not None:
            on_result(finished[index])
    for index, (result, _, _) in enumerate(jobs):
        if index not in finished:
            finished[index] = dataclasses.replace(
                result, error=f"timeout: no answer within {timeout:g} s"
            )
            if on_result is not None:
                on_result(finished[index])
    return [finished[index] for index in range(len(jobs))]


def load_states(obj: CliContext) -> None:
    """Give every instance its durable state, as a poll would, so its check can use it.

    A check may need what the last poll stored (a rotated refresh token); its secret
    values are masked in the check's result. Without a current database there is none.
    """
    try:
        db = open_database(obj)
    except UserError:
        return
    runtime = obj.runtime()
    try:
        with db.transaction() as session:
            for kind in KINDS:
                for name, adapter in getattr(runtime, kind.section).items():
                    row = repo.instance_state(session, obj.settings().merchant_id, kind.name, name)
                    instance_memory.load(adapter, row.adapter_state if row else None)
    finally:
        db.dispose()


def plugin_failures(obj: CliContext) -> list[PluginFailure]:
    """Failures from loading plugins and from their registration hooks."""
    return [*obj.plugin_manager().failures, *obj.registry().failures]


def setup_problems(obj: CliContext) -> list[str]:
    """Problems outside the instances: nothing configured, database, webhook address.

    Prints what was found on stdout (``database: ...``, ``webhook server: ...``) and returns
    one ``<file>: <key>: <problem>`` line per problem.
    """
    settings = obj.settings()
    shown = display_path(settings.config_path)
    problems = []
    enabled = [
        name
        for section in INSTANCE_SECTIONS
        for name, instance in getattr(settings, section).items()
        if instance.enabled
    ]
    if not enabled:
        problems.append(
            f"{shown}: nothing is configured: add a [channels.<name>], a [suppliers.<name>] "
            "and a [payments.<name>] table (see config.example.toml)"
        )
    try:
        click.echo(f"database: {database_state(obj).describe()}")
    except UserError as exc:
        problems.append(str(exc))
    if not settings.server.enabled:
        click.echo("webhook server: off")
    else:
        problem = server_address_problem(settings)
        if problem is None:
            click.echo(f"webhook server: {settings.server.host}:{settings.server.port} is free")
        else:
            problems.append(problem)
    return problems


@click.command("check")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_TIMEOUT_SECONDS,
    show_default=True,
    help="Seconds each instance may take to answer its check.",
)
@click.pass_obj
def command(obj: CliContext, timeout: float) -> None:
    """Check the config, the database, the webhook address and every instance.

    Opens the database and reports its schema revision, makes sure the webhook server
    could listen on [server] host and port, and calls every configured store, warehouse
    and payment gateway once, all at the same time, each within --timeout seconds.

    Exits 2 if the config, the database or the webhook address is wrong (or nothing is
    configured), 1 if any instance's check failed, 0 otherwise. With --config-dir and no
    --merchant every merchant file of the folder is checked in turn.
    """
    if obj.config_dir is not None and obj.merchant is None:
        status = _check_folder(obj, timeout)
    else:
        status = _check(obj, timeout)
    if status:
        raise click.exceptions.Exit(status)


def _check_folder(obj: CliContext, timeout: float) -> int:
    """Check every merchant file of ``obj.config_dir``; the worst exit status of them."""
    from pathlib import Path

    from ..errors import FbsError
    from ..merchant_folder import merchant_files

    worst = 0
    for path in merchant_files(Path(str(obj.config_dir))):
        click.echo(f"== {display_path(path)}", err=True)
        one = CliContext(config_dir=obj.config_dir, merchant=path.stem)
        try:
            status = _check(one, timeout)
        except FbsError as exc:
            for line in str(exc).splitlines():
                click.echo(f"error: {line}", err=True)
            status = CONFIG_PROBLEM_EXIT
        finally:
            one.close()
        worst = max(worst, status)
    return worst


def _check(obj: CliContext, timeout: float) -> int:
    """Check one merchant's config; return the exit status."""
    obj.settings_with_secrets()
    problems = setup_problems(obj)

    def progress(result: CheckResult) -> None:
        click.echo(f"  {result.instance}: {result.shown}", err=True)

    count = _count_instances(obj)
    if count:
        noun = "instance" if count == 1 else "instances"
        click.echo(f"checking {count} {noun} at once (timeout {timeout:g} s)", err=True)
    results = run_checks(obj, timeout=timeout, on_result=progress)
    console = obj.console
    failures = plugin_failures(obj)
    if failures:
        problems_table = Table("plugin", "distribution", "stage", "error", title="Plugin problems")
        for f in failures:
            dist = f"{f.distribution} {f.version or ''}".strip() if f.distribution else ""
            problems_table.add_row(*map(Text, (f.plugin, dist, f.stage, f.error)))
        console.print(problems_table)
    if results:
        table = Table("instance", "kind", "type", "result", title="Instances")
        for r in results:
            table.add_row(*map(Text, (r.instance, r.kind, r.type, r.shown)))
        console.print(table)
    verify_store_identities(obj)
    failed = [r for r in results if r.error is not None]
    click.echo(f"{len(results) - len(failed)} ok, {len(failed)} failed")
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        return CONFIG_PROBLEM_EXIT
    if failed:
        return CHECK_FAILED_EXIT
    return 0


def _count_instances(obj: CliContext) -> int:
    runtime = obj.runtime()
    return sum(len(getattr(runtime, kind.section)) for kind in KINDS)


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
