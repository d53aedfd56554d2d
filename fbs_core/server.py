"""The webhook endpoints ``fbs run`` serves.

* ``GET|POST /webhooks/{instance}[/{path}]``: a delivery for one channel instance,
  handed to its ``handle_webhook_request``;
* ``GET|POST /app-webhooks/{type}[/{path}]``: a delivery for a channel type as a whole
  (app-level topics), handed to the type's ``app_webhook`` with every configured instance
  of that type;
* ``GET /healthz``.

Each delivery is handed, raw, to the plugin in a worker thread (adapters are synchronous).
The plugin verifies the signature and answers, with a body and headers of its own when the
sender needs one (a challenge). When an instance's answer asks for ``poll_now`` the core is
told through ``on_poll_now(instance)`` so the order moves in seconds instead of at the next
scheduled poll. A plugin that raises gets a 500 with a generic message and a log line
naming it; the server keeps serving.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .adapters import AppWebhookHandler, OrderSource, WebhookRequest, WebhookResult
from .domain.privacy import PrivacyRequest

MAX_WEBHOOK_BYTES = 5 * 1024 * 1024
"""Largest delivery accepted; bigger bodies get 413 before they are read in full."""

METHODS = ["GET", "POST"]

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


def render(result: WebhookResult) -> Response:
    """The HTTP response for a plugin's answer: its own body, or a short JSON summary."""
    status = result.status_code if 100 <= result.status_code <= 599 else 500
    headers = dict(result.headers)
    body = result.body
    if body is None:
        content = json.dumps(
            {"status": status, "message": result.message, "poll_now": result.poll_now}
        )
        media_type = "application/json"
    elif isinstance(body, Mapping):
        content = json.dumps(dict(body))
        media_type = result.content_type or "application/json"
    else:
        content = body
        media_type = result.content_type or "text/plain; charset=utf-8"
    return Response(content, status_code=status, headers=headers, media_type=media_type)


def create_webhook_app(
    channels: Mapping[str, OrderSource],
    on_poll_now: Callable[[str], None],
    *,
    app_webhooks: Mapping[str, tuple[AppWebhookHandler, Mapping[str, OrderSource]]] | None = None,
    on_privacy: Callable[[PrivacyRequest], None] | None = None,
    max_body_bytes: int = MAX_WEBHOOK_BYTES,
) -> Starlette:
    """Build the ASGI app that receives channel webhooks.

    Args:
        channels: configured channel instances by name; ``/webhooks/<name>`` reaches one.
        on_poll_now: called with the instance name when a verified delivery asks for a
            poll; it must be quick and thread-safe (it runs in a worker thread).
        app_webhooks: channel type name → (its app-level handler, the configured
            instances of that type); ``/app-webhooks/<type>`` reaches one.
        on_privacy: carries out a privacy request a verified delivery made; the sender
            gets 500 (and retries) if it fails, so an erasure is never lost.
        max_body_bytes: deliveries larger than this are refused with 413.
    """
    app_level = dict(app_webhooks or {})

    async def read(request: Request) -> WebhookRequest | JSONResponse:
        try:
            body = await read_limited_body(request, max_body_bytes)
        except BodyTooLarge:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        except ClientDisconnect:
            return JSONResponse({"error": "client disconnected"}, status_code=400)
        return WebhookRequest(
            method=request.method,
            path=request.path_params.get("path", ""),
            query=dict(request.query_params),
            headers=dict(request.headers),  # lower-cased names, a plain dict for the thread
            body=body,
        )

    async def instance_webhook(request: Request) -> Response:
        instance = request.path_params["instance"]
        channel = channels.get(instance)
        if channel is None:
            return JSONResponse({"error": f"no channel named {instance!r}"}, status_code=404)
        delivery = await read(request)
        if isinstance(delivery, Response):
            return delivery
        try:
            result = await run_in_threadpool(channel.handle_webhook_request, delivery)
        except Exception:
            log.exception("channel %s failed to handle a webhook delivery", instance)
            return JSONResponse({"error": "internal error"}, status_code=500)
        if result.poll_now:
            try:
                await run_in_threadpool(on_poll_now, instance)
            except Exception:
                log.exception("could not schedule a poll of channel %s", instance)
        return await carry_out_privacy(result)

    async def carry_out_privacy(result: WebhookResult) -> Response:
        for privacy in result.privacy:
            if on_privacy is None:
                log.error("a privacy request arrived but nothing carries it out: %s", privacy)
                return JSONResponse({"error": "privacy requests unsupported"}, status_code=501)
            try:
                await run_in_threadpool(on_privacy, privacy)
            except Exception:
                log.exception("could not carry out a privacy request: %s", privacy)
                return JSONResponse({"error": "internal error"}, status_code=500)
        return render(result)

    async def type_webhook(request: Request) -> Response:
        type_name = request.path_params["type"]
        if type_name not in app_level:
            return JSONResponse(
                {"error": f"no app-level webhook for {type_name!r}"}, status_code=404
            )
        handler, instances = app_level[type_name]
        delivery = await read(request)
        if isinstance(delivery, Response):
            return delivery
        try:
            result = await run_in_threadpool(handler, delivery, instances)
        except Exception:
            log.exception("the %s plugin failed to handle an app-level webhook", type_name)
            return JSONResponse({"error": "internal error"}, status_code=500)
        return await carry_out_privacy(result)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/webhooks/{instance}", instance_webhook, methods=METHODS),
            Route("/webhooks/{instance}/{path:path}", instance_webhook, methods=METHODS),
            Route("/app-webhooks/{type}", type_webhook, methods=METHODS),
            Route("/app-webhooks/{type}/{path:path}", type_webhook, methods=METHODS),
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
