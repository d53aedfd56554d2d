"""Run an ASGI imitation on a free loopback port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn


@dataclass(frozen=True)
class LoggedRequest:
    """One request an imitation received, kept so tests and the demo can count effects."""

    at: datetime
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class RequestLog:
    """Thread-safe list of every request an imitation served."""

    entries: list[LoggedRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: LoggedRequest) -> None:
        """Append one request."""
        with self._lock:
            self.entries.append(entry)

    def matching(self, method: str, path_prefix: str = "") -> list[LoggedRequest]:
        """Return requests with this method whose path starts with ``path_prefix``."""
        with self._lock:
            return [
                e for e in self.entries if e.method == method and e.path.startswith(path_prefix)
            ]


class LoggingMiddleware:
    """ASGI middleware that records method, path, headers, body and status of each call."""

    def __init__(self, app: Any, log: RequestLog) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Record the request, then hand it to the app.

        The entry is logged when the response starts, before its body is sent, so a
        client that has its answer can always find its request in the log.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more_body = True
        while more_body:  # read the whole body up front so it is logged even if unread
            message = await receive()
            chunks.append(message.get("body", b""))
            more_body = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False
        logged = False

        def log(status: int) -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            self.log.add(
                LoggedRequest(
                    at=datetime.now(UTC),
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode("latin-1"),
                    headers={
                        k.decode("latin-1").lower(): v.decode("latin-1")
                        for k, v in scope.get("headers", [])
                    },
                    body=body,
                    status=status,
                )
            )

        async def recording_receive() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                log(message["status"])
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            log(0)  # the app failed before answering


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """An ASGI app served by uvicorn on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.log = RequestLog()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            LoggingMiddleware(app, self.log),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self, timeout: float = 10.0) -> RunningServer:
        """Start serving and wait until the port accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"imitation server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> RunningServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(app: Any, port: int | None = None) -> RunningServer:
    """Start ``app`` on a free loopback port and return the running server."""
    return RunningServer(app, port).start()
