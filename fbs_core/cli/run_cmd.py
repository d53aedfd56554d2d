"""``fbs run``: the fulfillment loop."""

from __future__ import annotations

import click
from rich.progress import Progress as Bar
from rich.progress import SpinnerColumn, TextColumn

from ..db import repository as repo
from ..engine import Engine, Progress
from ..scheduler import run_until_signalled
from ..server import WebhookServer, create_webhook_app
from .context import CliContext
from .database import open_database


@click.command("run")
@click.option(
    "--until-idle",
    is_flag=True,
    help="Poll every instance, run the pipeline while anything changes, then exit 0 (for cron and tests).",
)
@click.pass_obj
def command(obj: CliContext, until_idle: bool) -> None:
    """Run the fulfillment loop until SIGINT/SIGTERM (or until idle)."""
    settings = obj.settings()
    runtime = obj.runtime()
    db = open_database(obj, create=True)
    engine = Engine(runtime, db)
    try:
        engine.prepare()  # refuses a config that moved stores or merchant_id under orders in flight
        if until_idle:
            _run_until_idle(obj, engine)
        else:
            _run_forever(obj, engine)
        engine.stop()
        with db.transaction() as session:
            counts = repo.count_by_status(session, settings.merchant_id)
    finally:
        engine.stop()
        db.dispose()
    summary = (
        ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "no orders"
    )
    click.echo(f"orders: {summary}", err=True)


def _run_until_idle(obj: CliContext, engine: Engine) -> None:
    with Bar(
        SpinnerColumn(), TextColumn("{task.description}"), console=obj.console, transient=True
    ) as bar:
        task = bar.add_task("starting")

        def show(progress: Progress) -> None:
            bar.update(
                task,
                description=f"pass {progress.passes}: {progress.polls} polls, "
                f"{progress.changes} changes, {progress.commands} steps run",
            )

        progress = engine.run_until_idle(on_progress=show)
    click.echo(
        f"idle after {progress.passes} pass(es): {progress.polls} polls, {progress.changes} changes, "
        f"{progress.commands} steps run",
        err=True,
    )


def _run_forever(obj: CliContext, engine: Engine) -> None:
    settings = obj.settings()
    server = None
    if settings.server.enabled:
        app = create_webhook_app(
            engine.runtime.channels,
            engine.request_poll,
            app_webhooks=engine.runtime.app_webhooks(),
        )
        server = WebhookServer(app, settings.server.host, settings.server.port)

    def started() -> None:
        if server is not None:
            server.start()
            click.echo(
                f"webhooks on http://{settings.server.host}:{settings.server.port}/webhooks/<channel>",
                err=True,
            )
        click.echo(
            f"fbs running: {len(engine.runtime.channels)} channel(s), {len(engine.runtime.suppliers)} "
            "warehouse(s); Ctrl-C stops",
            err=True,
        )

    try:
        run_until_signalled(engine, settings.scheduler.tick_seconds, on_start=started)
    finally:
        if server is not None:
            server.stop()
    click.echo("stopped cleanly", err=True)
