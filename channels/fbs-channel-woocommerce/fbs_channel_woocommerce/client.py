"""A thin wrapper over ``woocommerce.API`` that maps every failure to an fbs error.

``woocommerce.API`` signs requests itself (HTTP Basic over https, one-legged OAuth 1.0a
over http) and returns ``requests`` responses. This module turns those responses into
parsed JSON or one of :mod:`fbs_core.errors`:

* 401/403 → :class:`AuthError`;
* 429 → :class:`RetriableError` with ``retry_after`` from ``Retry-After``;
* 5xx, timeouts, refused connections, a 2xx body that is not JSON → :class:`RetriableError`;
* 404 ``rest_no_route`` → :class:`NoRoute` (the store lacks that extension);
* any other 4xx → :class:`FatalError` carrying WooCommerce's ``message``.

Messages name the endpoint path only: request URLs carry the OAuth key and signature.

``woocommerce.API`` sends each request through ``requests.request``, which opens a new
connection (and, over https, a new TLS handshake) every time. :class:`PooledAPI` keeps
the package's URL building and signing and sends through one ``requests.Session`` per
store instead, so calls reuse kept-alive connections.
"""

from __future__ import annotations

import email.utils
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests
from requests.adapters import HTTPAdapter
from requests.auth import HTTPBasicAuth
from woocommerce import API

from fbs_core.errors import AuthError, FatalError, RetriableError

WC_VERSION = "wc/v3"
TRACKING_VERSION = "wc-shipment-tracking/v3"
DEFAULT_POOL_SIZE = 8
"""Connections kept alive per store: one per worker thread by default."""


class PooledAPI(API):
    """``woocommerce.API`` that sends through a shared ``requests.Session``.

    Only the last step of the package's request method changes: the URL, the Basic or
    OAuth 1.0a authentication, the headers and the JSON body are built as the package
    builds them (its own private helpers), then sent with ``session.request``.
    """

    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        session: requests.Session,
        **kwargs: Any,
    ) -> None:
        super().__init__(url, consumer_key, consumer_secret, **kwargs)
        self.session = session

    def _API__request(  # the package's private ``__request``, name-mangled
        self,
        method: str,
        endpoint: str,
        data: Any,
        params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        params = {} if params is None else params
        url = self._API__get_url(endpoint)  # type: ignore[attr-defined]
        auth = None
        headers = {"user-agent": f"{self.user_agent}", "accept": "application/json"}
        if self.is_ssl and not self.query_string_auth:
            auth = HTTPBasicAuth(self.consumer_key, self.consumer_secret)
        elif self.is_ssl:
            params.update(
                {"consumer_key": self.consumer_key, "consumer_secret": self.consumer_secret}
            )
        else:
            url = self._API__get_oauth_url(  # type: ignore[attr-defined]
                f"{url}?{urlencode(params)}", method, **kwargs
            )
        body = None
        if data is not None:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            headers["content-type"] = "application/json;charset=utf-8"
        return self.session.request(
            method=method,
            url=url,
            verify=self.verify_ssl,
            auth=auth,
            params=params,
            data=body,
            timeout=self.timeout,
            headers=headers,
            **kwargs,
        )


class NoRoute(FatalError):  # noqa: N818 - named after WordPress's rest_no_route
    """The store has no such REST route (usually: an extension is not installed)."""

    code = "rest_no_route"


@dataclass(frozen=True)
class WooResponse:
    """A successful answer: parsed JSON body and the response headers."""

    data: Any
    headers: Mapping[str, str]


def retry_after_seconds(value: str | None) -> float | None:
    """Parse ``Retry-After`` (delta seconds or an HTTP date) into seconds, if present."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class WooClient:
    """Calls one store's REST API; one instance per configured channel.

    Args:
        url: the store's base URL (``https://shop.example.com``).
        consumer_key: REST API consumer key.
        consumer_secret: REST API consumer secret.
        timeout: seconds to wait for the store (connect and each read).
        verify_ssl: verify the store's TLS certificate.
    """

    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = 10.0,
        verify_ssl: bool = True,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        common = {
            "timeout": timeout,
            "verify_ssl": verify_ssl,
            "wp_api": True,
            "session": self.session,
        }
        self._apis = {
            WC_VERSION: PooledAPI(
                self.url, consumer_key, consumer_secret, version=WC_VERSION, **common
            ),
            TRACKING_VERSION: PooledAPI(
                self.url, consumer_key, consumer_secret, version=TRACKING_VERSION, **common
            ),
        }

    def close(self) -> None:
        """Close the kept-alive connections."""
        self.session.close()

    def get(
        self, endpoint: str, params: Mapping[str, Any] | None = None, *, api: str = WC_VERSION
    ) -> WooResponse:
        """GET ``/wp-json/<api>/<endpoint>`` and return its JSON."""
        return self.request("GET", endpoint, params=params, api=api)

    def post(self, endpoint: str, data: Any, *, api: str = WC_VERSION) -> WooResponse:
        """POST JSON ``data`` to ``/wp-json/<api>/<endpoint>``."""
        return self.request("POST", endpoint, data=data, api=api)

    def put(self, endpoint: str, data: Any, *, api: str = WC_VERSION) -> WooResponse:
        """PUT JSON ``data`` to ``/wp-json/<api>/<endpoint>``."""
        return self.request("PUT", endpoint, data=data, api=api)

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        api: str = WC_VERSION,
    ) -> WooResponse:
        """Send one request and return the parsed body, or raise an fbs error."""
        where = f"{method} /wp-json/{api}/{endpoint}"
        client = self._apis[api]
        kwargs: dict[str, Any] = {"params": dict(params or {})}
        try:
            if method == "GET":
                response = client.get(endpoint, **kwargs)
            elif method == "POST":
                response = client.post(endpoint, data, **kwargs)
            elif method == "PUT":
                response = client.put(endpoint, data, **kwargs)
            else:
                raise ValueError(f"unsupported method {method}")
        except requests.Timeout:
            raise RetriableError(
                f"WooCommerce did not answer {where} within {self.timeout:g} s", code="timeout"
            ) from None
        except requests.ConnectionError:
            raise RetriableError(
                f"could not connect to WooCommerce at {self.url} ({where})",
                code="connection_failed",
            ) from None
        except requests.RequestException as exc:
            raise RetriableError(
                f"WooCommerce request {where} failed: {type(exc).__name__}",
                code="connection_failed",
            ) from None
        return self._parse(where, response)

    def _parse(self, where: str, response: requests.Response) -> WooResponse:
        status = response.status_code
        if 200 <= status < 300:
            try:
                data = response.json() if response.content else None
            except ValueError:
                raise RetriableError(
                    f"WooCommerce returned malformed JSON for {where} (HTTP {status})",
                    code="malformed_response",
                ) from None
            return WooResponse(data=data, headers=response.headers)
        code, message = _error_details(response)
        detail = f"WooCommerce answered {where} with HTTP {status}"
        if code:
            detail += f" ({code})"
        if message:
            detail += f": {message}"
        if status in (401, 403):
            raise AuthError(detail)
        if status == 429:
            raise RetriableError(
                detail,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                code="rate_limited",
            )
        if status >= 500:
            raise RetriableError(detail, code="upstream_unavailable")
        if status == 404 and code == "rest_no_route":
            raise NoRoute(detail)
        raise FatalError(detail)


def _error_details(response: requests.Response) -> tuple[str, str]:
    """Return WordPress's error ``code`` and ``message`` (empty if the body is not one)."""
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    code = body.get("code")
    message = body.get("message")
    return (
        code if isinstance(code, str) else "",
        message[:300] if isinstance(message, str) else "",
    )
