"""``fbs run --config-dir DIR``: every merchant of a folder from one process.

See :mod:`fbs_core.fleet` for the design. The summary and the exit status are those of a
single-merchant ``fbs run``, with the order counts and failed polls of every merchant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import UserError
from .context import CliContext
from .database import open_database
from .run_cmd import POLL_FAILED_EXIT, _print_summary


def run_folder(obj: CliContext, *, until_idle: bool, as_json: bool) -> None:
    """Serve every merchant file of ``obj.config_dir`` until signalled (or idle)."""
    from ..db import repository as repo
    from ..fleet import open_fleet

    fleet = open_fleet(
        Path(str(obj.config_dir)),
        lambda settings: open_database(obj, create=True, settings=settings),
    )
    try:
        if until_idle:
            progress = fleet.run_until_idle()
        else:
            _serve(fleet)
            progress = None
        counts: dict[str, int] = {}
        failed: list[dict[str, str]] = []
        with fleet.db.transaction() as session:
            for merchant_id, merchant in sorted(fleet.merchants.items()):
                for status, count in repo.count_by_status(session, merchant_id).items():
                    counts[status] = counts.get(status, 0) + count
                polled = set(merchant.engine.instances())
                failed.extend(
                    {
                        "merchant": merchant_id,
                        "kind": s.kind,
                        "instance": s.name,
                        "error": s.last_error,
                    }
                    for s in repo.list_instance_states(session, merchant_id)
                    if (s.kind, s.name) in polled and s.last_error
                )
        refused = [line for problem in fleet.problems.values() for line in problem.splitlines()]
    finally:
        fleet.stop()
        fleet.db.dispose()
    for line in refused:
        click.echo(f"refused: {line}", err=True)
    _print_summary(progress, counts, failed, as_json=as_json)
    if until_idle and failed:
        raise click.exceptions.Exit(POLL_FAILED_EXIT)


def _serve(fleet: Any) -> None:
    from ..scheduler import run_until_signalled

    deployment = fleet.deployment
    server = None
    if deployment.server.enabled:
        from ..fleet_webhooks import MerchantWebhooks
        from ..server import WebhookServer

        server = WebhookServer(
            MerchantWebhooks(fleet), deployment.server.host, deployment.server.port
        )

    def started() -> None:
        if server is not None:
            try:
                server.start()
            except RuntimeError as exc:
                raise UserError(f"server.port: the webhook server did not start: {exc}") from None
            click.echo(
                f"webhooks on http://{deployment.server.host}:{deployment.server.port}"
                "/merchants/<merchant>/webhooks/<channel>",
                err=True,
            )
        click.echo(
            f"fbs running: {len(fleet.merchants)} merchant(s) from {obj_dir(fleet)}; "
            "SIGHUP reloads, Ctrl-C stops",
            err=True,
        )

    try:
        run_until_signalled(
            fleet,
            deployment.scheduler.tick_seconds,
            on_start=started,
            on_hangup=fleet.request_reload,
        )
    finally:
        if server is not None:
            server.stop()
    click.echo("stopped cleanly", err=True)


def obj_dir(fleet: Any) -> str:
    """The config folder as the user would write it."""
    from ..config import display_path

    return display_path(fleet.directory)
