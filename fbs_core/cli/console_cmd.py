"""``fbs console``: serve the merchant console on its own, next to the workers.

It reads and acts on the database the workers use: a click on Send writes the order's
next step, which the running ``fbs run`` carries out.
"""

from __future__ import annotations

import click

from .context import CliContext
from .database import open_database


@click.command("console")
@click.option("--host", default=None, help="Address to listen on (default: [console] host).")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=None, help="Port (default: [console] port)."
)
@click.pass_obj
def command(obj: CliContext, host: str | None, port: int | None) -> None:
    """Serve the merchant console (web pages) until SIGINT/SIGTERM."""
    import uvicorn

    from ..console.console_serve import build_console, console_url

    settings = obj.settings()
    if host or port:
        console = settings.console.model_copy(
            update={"host": host or settings.console.host, "port": port or settings.console.port}
        )
        settings = settings.model_copy(update={"console": console})
    runtime = obj.runtime()
    db = open_database(obj)
    try:
        app = build_console(settings, db, runtime)
        click.echo(f"fbs console on {console_url(settings)}; Ctrl-C stops", err=True)
        uvicorn.run(
            app,
            host=settings.console.host,
            port=settings.console.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
    finally:
        db.dispose()
