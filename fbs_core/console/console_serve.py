"""Building the console from fbs's settings, and serving it beside ``fbs run`` or alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..pipeline.context import PipelineContext
from ..server import WebhookServer
from .console_app import ConsoleConfig, create_console_app

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from ..config import Settings
    from ..db import Database
    from ..runtime import Runtime

INSTANCE_KINDS = (
    ("channel", "channels"),
    ("supplier", "suppliers"),
    ("payment", "payments"),
    ("tracking", "tracking"),
)
"""(the kind instance states are kept under, the settings table) of each instance kind."""


def console_url(settings: Settings) -> str:
    """The address people open: ``[console] public_url``, else ``http://host:port``."""
    console = settings.console
    return console.public_url.rstrip("/") or f"http://{console.host}:{console.port}"


def rate_limit_use(runtime: Runtime) -> dict[tuple[str, str], str]:
    """(kind, name) → how much of its declared limits an instance used in this process.

    Limits are kept per process (:mod:`fbs_core.ratelimits`): ``fbs run`` serving the
    console shows its own workers' use; a separate ``fbs console`` shows its own.
    """
    use: dict[tuple[str, str], str] = {}
    for kind, group in (
        ("channel", runtime.channels),
        ("supplier", runtime.suppliers),
        ("payment", runtime.payments),
        ("tracking", runtime.tracking),
    ):
        for name, adapter in group.items():
            limiter = getattr(adapter, "rate_limiter", None)
            if limiter is None:
                use[(kind, name)] = "no declared limits"
                continue
            limits = limiter.limits
            parts = []
            if limits.requests_per_second:
                parts.append(f"{limits.requests_per_second:g}/s")
            if limits.daily_quota:
                parts.append(f"{limiter._calls_today} of {limits.daily_quota} calls today")  # noqa: SLF001
            if limits.max_concurrency:
                parts.append(f"{limiter.in_flight} of {limits.max_concurrency} in flight")
            parts.append(f"waited {limiter.waited_seconds:.1f} s")
            use[(kind, name)] = ", ".join(parts)
    return use


def console_config(settings: Settings, db: Database, runtime: Runtime) -> ConsoleConfig:
    """The console's view of the settings: instances by type, rules as plain values."""
    instances = [
        (kind, name, instance.type + ("" if instance.enabled else " (disabled)"))
        for kind, table in INSTANCE_KINDS
        for name, instance in getattr(settings, table).items()
    ]
    rules: dict[str, Any] = {
        key: (value.value if hasattr(value, "value") else value)
        for key, value in settings.fulfillment.model_dump().items()
    }

    def contexts(merchant_id: str) -> PipelineContext:
        return PipelineContext(
            db=db,
            runtime=runtime,
            merchant_id=merchant_id,
            rules=settings.fulfillment,
            scheduler=settings.scheduler,
        )

    return ConsoleConfig(
        contexts=contexts,
        instances=instances,
        rules=rules,
        rate_use=lambda: rate_limit_use(runtime),
        secure_cookies=console_url(settings).startswith("https://"),
    )


def build_console(settings: Settings, db: Database, runtime: Runtime) -> Starlette:
    """The console app for these settings on ``db``."""
    return create_console_app(db, console_config(settings, db, runtime))


def start_console(settings: Settings, db: Database, runtime: Runtime) -> WebhookServer:
    """Serve the console in a background thread (``fbs run`` with ``[console] enabled``)."""
    server = WebhookServer(
        build_console(settings, db, runtime), settings.console.host, settings.console.port
    )
    try:
        server.start()
    except RuntimeError:
        from ..config import display_path
        from ..errors import UserError

        raise UserError(
            f"{display_path(settings.config_path)}: console.port: the console did not start on "
            f"{settings.console.host}:{settings.console.port} (is the port taken?)"
        ) from None
    return server


def start_console_if_enabled(
    settings: Settings, db: Database, runtime: Runtime
) -> WebhookServer | None:
    """Start the console for ``fbs run`` when ``[console] enabled = true``; say where."""
    if not settings.console.enabled:
        return None
    import click

    server = start_console(settings, db, runtime)
    click.echo(f"console on {console_url(settings)}", err=True)
    return server
