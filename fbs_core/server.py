"""The webhook endpoints ``fbs run`` serves: ``POST /webhooks/{instance}`` and ``/healthz``.

Each delivery is handed, raw, to the channel instance's ``handle_webhook`` in a worker
thread (adapters are synchronous). The channel verifies the signature and answers; when it
asks for ``poll_now`` the core is told through ``on_poll_now(instance)`` so the order moves
in seconds instead of at the next scheduled poll. A plugin that raises gets a 500 with a
generic message and a log line naming the instance; the server keeps serving.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .adapters import OrderSource

MAX_WEBHOOK_BYTES = 5 * 1024 * 1024
"""Largest delivery accepted; bigger bodies get 413 before they are read in full."""

log = logging.getLogger("fbs.server")


class BodyTooLarge(Exception):  # noqa: N818 - a control-flow signal inside this module
    """The request body is over :data:`MAX_WEBHOOK_BYTES`."""


async def read_limited_body(request: Request, limit: int = MAX_WEBHOOK_BYTES) -> bytes:
    """Read the raw body, refusing as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_webhook_app(
    channels: Mapping[str, OrderSource],
    on_poll_now: Callable[[str], None],
    *,
    max_body_bytes: int = MAX_WEBHOOK_BYTES,
) -> Starlette:
    """Build the ASGI app that receives channel webhooks.

    Args:
        channels: configured channel instances by name; ``/webhooks/<name>`` reaches one.
        on_poll_now: called with the instance name when a verified delivery asks for a
            poll; it must be quick and thread-safe (it runs in a worker thread).
        max_body_bytes: deliveries larger than this are refused with 413.
    """

    async def webhook(request: Request) -> JSONResponse:
        instance = request.path_params["instance"]
        channel = channels.get(instance)
        if channel is None:
            return JSONResponse({"error": f"no channel named {instance!r}"}, status_code=404)
        try:
            body = await read_limited_body(request, max_body_bytes)
        except BodyTooLarge:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        except ClientDisconnect:
            return JSONResponse({"error": "client disconnected"}, status_code=400)
        headers = dict(request.headers)  # lower-cased names, a plain dict for the thread
        try:
            result = await run_in_threadpool(channel.handle_webhook, headers, body)
        except Exception:
            log.exception("channel %s failed to handle a webhook delivery", instance)
            return JSONResponse({"error": "internal error"}, status_code=500)
        if result.poll_now:
            try:
                await run_in_threadpool(on_poll_now, instance)
            except Exception:
                log.exception("could not schedule a poll of channel %s", instance)
        status = result.status_code if 100 <= result.status_code <= 599 else 500
        return JSONResponse(
            {"status": status, "message": result.message, "poll_now": result.poll_now},
            status_code=status,
        )

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/webhooks/{instance}", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


class WebhookServer:
    """Serve an ASGI app with uvicorn in a daemon thread (``start()`` / ``stop()``).

    ``port=0`` binds a free port; read the actual one from ``port`` after ``start()``.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 8765) -> None:
        self.host = host
        self.port = port
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fbs-webhooks", daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. ``http://127.0.0.1:8765``."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> WebhookServer:
        """Start serving; return once the port accepts connections.

        Raises:
            RuntimeError: if the server did not start (e.g. the port is taken).
        """
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"webhook server on {self.host}:{self.port} did not start")
            time.sleep(0.01)
        if self.port == 0:
            sockets = [s for server in self._server.servers for s in server.sockets]
            if sockets:
                self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to finish in-flight requests and stop; wait for the thread."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    def __enter__(self) -> WebhookServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
