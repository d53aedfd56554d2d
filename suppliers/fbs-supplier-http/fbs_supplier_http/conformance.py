"""Check HTTP exchanges against the fbs warehouse API document, ``openapi.yaml``.

Warehouse implementers and fbs's own tests use this to prove both sides keep the
contract: wrap the warehouse's ASGI app in :class:`ConformanceRecorder`, exercise it, then
ask :class:`ContractChecker` for the problems of every recorded exchange.

Needs the optional ``openapi-core`` dependency (``pip install fbs-supplier-http[conformance]``);
it is imported only when a checker is built, so the plugin itself never needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

OPENAPI_RESOURCE = "openapi.yaml"

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def openapi_text() -> str:
    """Return the text of the OpenAPI document shipped in this package."""
    return resources.files(__package__).joinpath(OPENAPI_RESOURCE).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Exchange:
    """One request a warehouse received and the response it sent, as raw as ASGI gives them."""

    method: str
    path: str
    query: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes

    def describe(self) -> str:
        """Return ``"GET /v1/stock?… -> 200"`` for messages."""
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} -> {self.status}"


class ConformanceRecorder:
    """ASGI middleware that records every HTTP exchange of the app it wraps."""

    def __init__(self, app: Callable[[_Scope, _Receive, _Send], Awaitable[None]]) -> None:
        self.app = app
        self._exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    @property
    def exchanges(self) -> list[Exchange]:
        """A copy of the exchanges recorded so far, oldest first."""
        with self._lock:
            return list(self._exchanges)

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        """Pass the call through to the wrapped app, recording both directions."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_chunks: list[bytes] = []
        response_chunks: list[bytes] = []
        response_start: dict[str, Any] = {}
        recorded = False

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            exchange = Exchange(
                method=scope["method"],
                path=scope["path"],
                query=scope.get("query_string", b"").decode("latin-1"),
                request_headers=_decode_headers(scope.get("headers", [])),
                request_body=b"".join(request_chunks),
                status=int(response_start.get("status", 0)),
                response_headers=_decode_headers(response_start.get("headers", [])),
                response_body=b"".join(response_chunks),
            )
            with self._lock:
                self._exchanges.append(exchange)

        async def recording_receive() -> MutableMapping[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                request_chunks.append(message.get("body", b""))
            return message

        async def recording_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                response_start.update(message)
            elif message["type"] == "http.response.body":
                response_chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    # Recorded before the client can see the end of the answer, so a test
                    # that has its response in hand always finds the exchange here.
                    record()
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            record()


def _decode_headers(raw: Any) -> tuple[tuple[str, str], ...]:
    return tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in raw)


class ContractChecker:
    """Validate recorded exchanges against ``openapi.yaml`` with openapi-core.

    Building one also validates the document itself against the OpenAPI 3.1 schema.
    """

    def __init__(self, spec_text: str | None = None) -> None:
        import yaml
        from openapi_core import OpenAPI

        spec = yaml.safe_load(spec_text if spec_text is not None else openapi_text())
        self._api = OpenAPI.from_dict(spec)
        servers = spec.get("servers") or [{"url": "http://localhost"}]
        # openapi-core matches requests to a server URL; recorded requests carry only a path.
        self._host_url = str(servers[0]["url"]).rstrip("/")

    def request_problems(self, exchange: Exchange) -> list[str]:
        """Return what is wrong with the request of ``exchange`` (empty when it conforms)."""
        return self._problems(lambda: self._api.validate_request(self._request(exchange)))

    def response_problems(self, exchange: Exchange) -> list[str]:
        """Return what is wrong with the response of ``exchange`` (empty when it conforms)."""
        return self._problems(
            lambda: self._api.validate_response(self._request(exchange), _Response(exchange))
        )

    def problems(self, exchanges: list[Exchange], *, responses: bool = True) -> list[str]:
        """Return every problem of every exchange, each prefixed with the exchange."""
        found: list[str] = []
        for exchange in exchanges:
            where = exchange.describe()
            found += [f"{where}: request: {p}" for p in self.request_problems(exchange)]
            if responses:
                found += [f"{where}: response: {p}" for p in self.response_problems(exchange)]
        return found

    def _request(self, exchange: Exchange) -> _Request:
        return _Request(exchange, self._host_url)

    @staticmethod
    def _problems(validate: Callable[[], None]) -> list[str]:
        from openapi_core.exceptions import OpenAPIError

        try:
            validate()
        except OpenAPIError as exc:
            return [_describe_error(exc)]
        return []


def _describe_error(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    for nested in getattr(exc, "schema_errors", ()) or ():
        parts.append(f"  {getattr(nested, 'message', nested)}")
    cause = exc.__cause__
    if cause is not None:
        parts.append(f"  caused by {_describe_error(cause)}")
    return "\n".join(parts)


class _Request:
    """An :class:`Exchange`'s request in the shape openapi-core reads."""

    def __init__(self, exchange: Exchange, host_url: str) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self._exchange = exchange
        self._host_url = host_url
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(exchange.query, keep_blank_values=True)),
            header=Headers(list(exchange.request_headers)),
        )

    @property
    def host_url(self) -> str:
        return self._host_url

    @property
    def path(self) -> str:
        return self._exchange.path

    @property
    def method(self) -> str:
        return self._exchange.method.lower()

    @property
    def body(self) -> bytes | None:
        return self._exchange.request_body or None

    @property
    def content_type(self) -> str:
        return dict(self._exchange.request_headers).get("content-type", "").lower()


class _Response:
    """An :class:`Exchange`'s response in the shape openapi-core reads."""

    def __init__(self, exchange: Exchange) -> None:
        from werkzeug.datastructures import Headers

        self._exchange = exchange
        self.headers = Headers(list(exchange.response_headers))

    @property
    def status_code(self) -> int:
        return self._exchange.status

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", "")).lower()

    @property
    def data(self) -> bytes | None:
        return self._exchange.response_body
