"""Validate the imitation's REST exchanges against eBay's official Sell Fulfillment document.

The document is ``ebay/sell_fulfillment_v1_oas3.json`` of the specs folder (see
``fbs_core.testing.specs``; never copied into the repository). openapi-core checks each
request's path, parameters and body, and each response whose status the operation
declares (its body against the schema); a request that breaks the document is answered
400, as eBay and Prism answer it, and every problem is kept for the tests to assert on.
"""

from __future__ import annotations

import json
import threading
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from fbs_core.testing.specs import specs_dir

SPEC = "ebay/sell_fulfillment_v1_oas3.json"
BASE_PATH = "/sell/fulfillment/v1"
HOST_URL = f"https://api.ebay.com{BASE_PATH}"


def spec_path() -> Path:
    """The official document's path; a clear error if the specs folder lacks it."""
    folder = specs_dir()
    path = folder / SPEC if folder else None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"{SPEC} not found in the specs folder ({folder}); set FBS_SPECS_DIR"
        )
    return path


class _Request:
    def __init__(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        self.method = method.lower()
        self.host_url = HOST_URL
        self.path = path[len(BASE_PATH) :] or "/"
        self.full_url_pattern = HOST_URL + self.path
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True)),
            header=Headers(headers),
        )
        self.body = body or None
        content_type = dict((k.lower(), v) for k, v in headers).get("content-type")
        self.content_type = content_type.split(";")[0].strip() if content_type else None


class _Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status_code = status
        self.data = body
        self.headers = Headers(headers)
        content_type = self.headers.get("content-type")
        self.content_type = content_type.split(";")[0].strip() if content_type else None


class FulfillmentContract:
    """The Sell Fulfillment document, ready to check exchanges; problems are collected."""

    def __init__(self, path: Path | None = None) -> None:
        self.document: dict[str, Any] = json.loads((path or spec_path()).read_text())
        self._api = OpenAPI.from_dict(self.document)
        self._lock = threading.Lock()
        self.problems: list[str] = []
        self.checked = 0

    def request_problem(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> str | None:
        """What is wrong with one request (None when it conforms); recorded as well."""
        try:
            with warnings.catch_warnings():
                # The document's only scheme is OAuth 2, which openapi-core cannot check;
                # the imitation checks the bearer token itself.
                warnings.filterwarnings("ignore", "Unsupported scheme type", UserWarning)
                self._api.validate_request(_Request(method, path, query, headers, body))
        except OpenAPIError as exc:
            return self._record(f"{method} {path}: request: {_describe(exc)}")
        with self._lock:
            self.checked += 1
        return None

    def response_problem(
        self,
        method: str,
        path: str,
        query: str,
        request_headers: list[tuple[str, str]],
        request_body: bytes,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> str | None:
        """What is wrong with one response of a declared status (None when it conforms)."""
        request = _Request(method, path, query, request_headers, request_body)
        try:
            self._api.validate_response(request, _Response(status, headers, body))
        except OpenAPIError as exc:
            return self._record(f"{method} {path} -> {status}: response: {_describe(exc)}")
        return None

    def declares(self, method: str, template: str, status: int) -> bool:
        """Whether the operation at ``template`` (``/order/{orderId}``) declares ``status``."""
        operation = self.document["paths"].get(template, {}).get(method.lower(), {})
        return str(status) in operation.get("responses", {})

    def _record(self, problem: str) -> str:
        with self._lock:
            self.problems.append(problem)
        return problem


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__
    return f"{text} (caused by {_describe(cause)})" if cause is not None else text
