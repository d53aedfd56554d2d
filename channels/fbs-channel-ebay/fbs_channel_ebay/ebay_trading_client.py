"""Trading API calls through ebaysdk, each failure mapped to an fbs error.

ebaysdk builds the XML request (``RequesterCredentials`` with the Auth'n'Auth token and
the ``X-EBAY-API-*`` headers) and sends it; the answer is read here with ElementTree.
eBay answers Trading calls with HTTP 200 and ``<Ack>Failure</Ack>``; its error codes
decide the family (eBay's Trading API error reference):

* ``931``/``932``/``16110``/``17470`` (invalid, hard-expired or revoked token) →
  :class:`AuthError`;
* ``518`` (the call usage limit is reached) → :class:`RetriableError` ``rate_limited``;
* ``10007`` and other ``SeverityCode`` errors of class ``SystemError`` → retriable;
* any other failure → :class:`FatalError` with eBay's ``LongMessage``.

ebaysdk's own debug log would print the request body, token included, so its logger is
kept at INFO and above.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import requests
from ebaysdk.trading import Connection

from fbs_core.errors import AuthError, FatalError, RetriableError

from .ebay_rest import CallCounter

NS = "urn:ebay:apis:eBLBaseComponents"
Q = f"{{{NS}}}"
AUTH_ERRORS = frozenset({"931", "932", "16110", "17470", "21916013"})
LIMIT_ERRORS = frozenset({"518"})
RETRY_ERRORS = frozenset({"10007", "10000"})

logging.getLogger("ebaysdk").setLevel(logging.INFO)


def text(element: ET.Element | None, *path: str) -> str | None:
    """The text at ``path`` (namespaced names) below ``element``, or None."""
    node = element
    for name in path:
        if node is None:
            return None
        node = node.find(Q + name)
    return node.text.strip() if node is not None and node.text else None


def children(element: ET.Element | None, *path: str) -> list[ET.Element]:
    """Every element at ``path`` below ``element``."""
    if element is None:
        return []
    return element.findall("/".join(Q + name for name in path))


class TradingClient:
    """One seller's Trading API connection."""

    def __init__(
        self,
        url: str,
        *,
        app_id: str,
        dev_id: str,
        cert_id: str,
        token: str,
        site_id: int,
        compatibility: int,
        timeout: float,
        counter: CallCounter,
    ) -> None:
        parts = urlsplit(url)
        self._connection = Connection(
            domain=parts.netloc,
            uri=parts.path or "/ws/api.dll",
            appid=app_id,
            devid=dev_id,
            certid=cert_id,
            token=token,
            siteid=str(site_id),
            compatibility=str(compatibility),
            timeout=timeout,
            config_file=None,
        )
        self._connection.config.set("uri", parts.path or "/ws/api.dll", force=True)
        self._connection.config.set("https", parts.scheme == "https", force=True)
        self._connection.config.set("errors", False, force=True)
        self.counter = counter

    def call(self, verb: str, data: dict) -> ET.Element:
        """Run ``verb`` with ``data``; return the response root or raise an fbs error."""
        try:
            self._connection.execute(verb, data)
        except requests.Timeout:
            raise RetriableError(f"eBay did not answer {verb} in time", code="timeout") from None
        except requests.RequestException as exc:
            raise RetriableError(
                f"could not reach eBay for {verb} ({type(exc).__name__})",
                code="upstream_unavailable",
            ) from None
        except Exception:  # noqa: BLE001 - ebaysdk fails on bodies that are not eBay's XML
            status = getattr(getattr(self._connection, "response", None), "status_code", 0)
            raise RetriableError(
                f"eBay answered {verb} with HTTP {status} and a body that is not its XML",
                code="upstream_unavailable" if status >= 500 else "malformed_response",
            ) from None
        finally:
            self.counter.add()
        response = self._connection.response
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetriableError(
                f"eBay answered {verb} with HTTP {status}",
                code="rate_limited" if status == 429 else "upstream_unavailable",
            )
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            raise RetriableError(
                f"eBay answered {verb} with something other than XML", code="malformed_response"
            ) from None
        if text(root, "Ack") in ("Failure", "PartialFailure"):
            _raise(verb, root)
        return root


def _raise(verb: str, root: ET.Element) -> None:
    errors = [
        (text(e, "ErrorCode") or "", text(e, "LongMessage") or text(e, "ShortMessage") or "")
        for e in children(root, "Errors")
        if text(e, "SeverityCode") != "Warning"
    ]
    if not errors:
        return
    codes = {code for code, _ in errors}
    message = "; ".join(f"{code} {long}" for code, long in errors)[:500]
    if codes & AUTH_ERRORS:
        raise AuthError(
            f"eBay refused the Auth'n'Auth token for {verb}: {message}; get a new token for "
            "auth_token",
            code="auth_token_invalid",
        )
    if codes & LIMIT_ERRORS:
        raise RetriableError(
            f"eBay's call limit is reached ({verb}): {message}", code="rate_limited"
        )
    if codes & RETRY_ERRORS:
        raise RetriableError(f"eBay could not answer {verb}: {message}")
    raise FatalError(f"eBay rejected {verb}: {message}")
