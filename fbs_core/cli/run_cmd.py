"""``fbs run``: the fulfillment loop.

``fbs run --until-idle`` is made for cron: its summary goes to stdout (``--json`` for
scripts) and it exits :data:`POLL_FAILED_EXIT` when any instance's last poll failed, so a
store or warehouse that stopped answering is noticed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from ..errors import UserError
from .context import CliContext
from .database import open_database

if TYPE_CHECKING:
    from ..engine import Engine, Progress

POLL_FAILED_EXIT = 3
"""Exit status of ``fbs run --until-idle`` when any instance's last poll failed."""


@click.command("run")
@click.option(
    "--until-idle",
    is_flag=True,
    help="Poll every instance, run the pipeline while anything changes, then exit: 0, or "
    f"{POLL_FAILED_EXIT} if any instance's last poll failed (for cron and tests).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.pass_obj
def command(obj: CliContext, until_idle: bool, as_json: bool) -> None:
    """Run the fulfillment loop until SIGINT/SIGTERM (or until idle).

    With --config-dir (and no --merchant) every merchant file of the folder is served.
    """
    if obj.config_dir is not None and obj.merchant is None:
        from .fleet_run import run_folder

        run_folder(obj, until_idle=until_idle, as_json=as_json)
        return
    from ..db import repository as repo
    from ..engine import Engine

    settings = obj.settings()
    runtime = obj.runtime()
    if not until_idle and settings.server.enabled:
        from .server_address import server_address_problem

        problem = server_address_problem(settings)
        if problem is not None:
            raise UserError(problem)
    db = open_database(obj, create=True)
    engine = Engine(runtime, db)
    try:
        engine.prepare()  # refuses a config that moved stores or merchant_id under orders in flight
        progress = _run_until_idle(obj, engine) if until_idle else _run_forever(obj, engine)
        engine.stop()
        with db.transaction() as session:
            counts = repo.count_by_status(session, settings.merchant_id)
            failed = _failed_polls(session, engine)
    finally:
        engine.stop()
        db.dispose()
    _print_summary(progress, counts, failed, as_json=as_json)
    if until_idle and failed:
        raise click.exceptions.Exit(POLL_FAILED_EXIT)


def _failed_polls(session: Any, engine: Engine) -> list[dict[str, str]]:
    """Every polled instance whose last poll failed, with the error it recorded."""
    from ..db import repository as repo

    polled = set(engine.instances())
    return [
        {"kind": state.kind, "instance": state.name, "error": state.last_error}
        for state in repo.list_instance_states(session, engine.ctx.merchant_id)
        if (state.kind, state.name) in polled and state.last_error
    ]


def _print_summary(
    progress: Progress | None,
    counts: dict[str, int],
    failed: list[dict[str, str]],
    *,
    as_json: bool,
) -> None:
    if as_json:
        summary: dict[str, Any] = {
            "passes": progress.passes if progress else 0,
            "polls": progress.polls if progress else 0,
            "changes": progress.changes if progress else 0,
            "steps": progress.commands if progress else 0,
            "orders": dict(sorted(counts.items())),
            "failed_polls": failed,
        }
        click.echo(json.dumps(summary, indent=2))
        return
    if progress is not None:
        click.echo(
            f"idle after {progress.passes} pass(es): {progress.polls} polls, "
            f"{progress.changes} changes, {progress.commands} steps run"
        )
    for failure in failed:
        click.echo(f"poll failed: {failure['kind']} {failure['instance']}: {failure['error']}")
    summary_text = (
        ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "no orders"
    )
    click.echo(f"orders: {summary_text}")


def _run_until_idle(obj: CliContext, engine: Engine) -> Progress:
    """Poll and drain until nothing changes; a spinner on stderr when it is a terminal."""
    console = obj.err_console
    if not console.is_terminal:
        return engine.run_until_idle()
    from rich.progress import Progress as Bar
    from rich.progress import SpinnerColumn, TextColumn

    with Bar(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
    ) as bar:
        task = bar.add_task("starting")

        def show(progress: Progress) -> None:
            bar.update(
                task,
                description=f"pass {progress.passes}: {progress.polls} polls, "
                f"{progress.changes} changes, {progress.commands} steps run",
            )

        return engine.run_until_idle(on_progress=show)


def _run_forever(obj: CliContext, engine: Engine) -> None:
    from ..scheduler import run_until_signalled

    settings = obj.settings()
    server = None
    if settings.server.enabled:
        from ..server import WebhookServer, create_webhook_app

        app = create_webhook_app(
            engine.runtime.channels,
            engine.request_poll,
            app_webhooks=engine.runtime.app_webhooks(),
            on_privacy=engine.apply_privacy,
        )
        server = WebhookServer(app, settings.server.host, settings.server.port)

    def started() -> None:
        if server is not None:
            try:
                server.start()
            except RuntimeError as exc:
                from ..config import display_path

                shown = display_path(settings.config_path)
                raise UserError(
                    f"{shown}: server.port: the webhook server did not start: {exc}"
                ) from None
            click.echo(
                f"webhooks on http://{settings.server.host}:{settings.server.port}/webhooks/<channel>",
                err=True,
            )
        click.echo(
            f"fbs running: {len(engine.runtime.channels)} channel(s), {len(engine.runtime.suppliers)} "
            "warehouse(s); Ctrl-C stops",
            err=True,
        )

    # The merchant console beside the loop, when [console] enabled = true.
    from ..console.console_serve import start_console_if_enabled

    console = start_console_if_enabled(settings, engine.db, engine.runtime)
    try:
        run_until_signalled(engine, settings.scheduler.tick_seconds, on_start=started)
    finally:
        if server is not None:
            server.stop()
        if console is not None:
            console.stop()
    click.echo("stopped cleanly", err=True)
