"""Authentication as ``WC_REST_Authentication`` does it.

One-legged OAuth 1.0a in the query string (HMAC-SHA1 or HMAC-SHA256 over the normalised
parameters, key = consumer secret + ``&``, 15-minute timestamp window, nonces single-use;
duplicated query parameters are accepted and the last value wins, as PHP does) or HTTP
Basic with the key and secret. A real store takes Basic only over https; this one serves
http and takes both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from urllib.parse import parse_qsl, quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._errors import _error

OAUTH_REQUIRED = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
OAUTH_WINDOW_SECONDS = 15 * 60


def _rfc3986(value: str) -> str:
    """PHP ``rawurlencode``, as ``wc_rest_urlencode_rfc3986`` uses it."""
    return quote(value, safe="~")


def oauth_signature(
    method: str, url: str, params: dict[str, str], secret: str, algorithm: str = "HMAC-SHA256"
) -> str:
    """Return the signature WooCommerce expects for ``params`` (without ``oauth_signature``).

    Mirrors ``WC_REST_Authentication::check_oauth_signature``: parameters sorted by key,
    each key and value percent-encoded, each ``key=value`` pair encoded again, joined with
    ``%26``, and signed with ``consumer_secret + "&"``.
    """
    pairs = [
        _rfc3986(f"{_rfc3986(key)}={_rfc3986(value)}") for key, value in sorted(params.items())
    ]
    base = f"{method.upper()}&{_rfc3986(url)}&{'%26'.join(pairs)}"
    digest = hashlib.sha1 if algorithm == "HMAC-SHA1" else hashlib.sha256
    raw = hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()
    return base64.b64encode(raw).decode()


class _Authentication:
    """Checks each API request's credentials against the store's one key."""

    consumer_key: str
    consumer_secret: str
    _lock: threading.RLock
    _nonces: dict[str, float]

    def _authenticate(self, request: Request) -> Response | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return self._auth_error("Consumer key is invalid.")
            if not hmac.compare_digest(key, self.consumer_key):
                return self._auth_error("Consumer key is invalid.")
            if not hmac.compare_digest(secret, self.consumer_secret):
                return self._auth_error("Consumer secret is invalid.")
            return None
        # PHP's $_GET: a repeated parameter keeps its last value.
        params = dict(parse_qsl(request.url.query, keep_blank_values=True))
        if not any(k.startswith("oauth_") for k in params):
            action = {"GET": "list resources", "POST": "create resources"}.get(
                request.method, "edit this resource"
            )
            verb = {"GET": "view", "POST": "create"}.get(request.method, "edit")
            return _error(401, f"woocommerce_rest_cannot_{verb}", f"Sorry, you cannot {action}.")
        missing = [k for k in OAUTH_REQUIRED if not params.get(k)]
        if missing:
            return _error(
                401,
                "woocommerce_rest_authentication_missing_parameter",
                f"Missing OAuth parameter {missing[0]}",
            )
        if not hmac.compare_digest(params["oauth_consumer_key"], self.consumer_key):
            return self._auth_error("Consumer key is invalid.")
        method = params["oauth_signature_method"]
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return self._auth_error("Invalid signature - signature method is invalid.")
        given = params.pop("oauth_signature").replace(" ", "+")
        url = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        expected = oauth_signature(request.method, url, params, self.consumer_secret, method)
        if not hmac.compare_digest(expected, given):
            return self._auth_error("Invalid signature - provided signature does not match.")
        try:
            stamp = int(params["oauth_timestamp"])
        except ValueError:
            return self._auth_error("Invalid timestamp.")
        now = time.time()
        if abs(stamp - now) > OAUTH_WINDOW_SECONDS:
            return self._auth_error("Invalid timestamp.")
        with self._lock:
            self._nonces = {
                n: t for n, t in self._nonces.items() if t >= now - OAUTH_WINDOW_SECONDS
            }
            if params["oauth_nonce"] in self._nonces:
                return self._auth_error("Invalid nonce - nonce has already been used.")
            self._nonces[params["oauth_nonce"]] = stamp
        return None

    @staticmethod
    def _auth_error(message: str) -> JSONResponse:
        return _error(401, "woocommerce_rest_authentication_error", message)
