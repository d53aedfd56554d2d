"""Marketplace account deletion notifications, served at ``/app-webhooks/ebay``.

eBay requires every application that keeps eBay users' data to honour them
(developer.ebay.com "Marketplace account deletion/closure notifications"):

* **Endpoint validation**: eBay sends ``GET <endpoint>?challenge_code=<code>`` and expects
  ``{"challengeResponse": hex(SHA-256(challenge code + verification token + endpoint
  URL))}`` as JSON with status 200;
* **Notifications**: a POSTed JSON body with the topic ``MARKETPLACE_ACCOUNT_DELETION``
  and ``notification.data.username``/``userId``, signed in ``X-EBAY-SIGNATURE``: base64 of
  ``{"alg": "ecdsa", "kid": <key id>, "signature": <base64 DER signature>, "digest":
  "SHA1"}``. The signature covers the raw body and is checked with the public key from
  the Notification API's ``getPublicKey`` (``GET /commerce/notification/v1/public_key/{kid}``,
  an application token), cached for an hour per key id.

A verified notification asks the core to erase the buyer's personal data from the orders
of every configured eBay store (matched by the ``buyer`` channel data stored at intake);
money records stay. A missing or undecodable signature is refused 412, a signature that
does not verify 412 too (eBay's documented answer for a failed check), and nothing is
changed. A key eBay cannot be asked for right now is a 500, so eBay sends again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from fbs_core.adapters import OrderSource, WebhookRequest, WebhookResult
from fbs_core.domain.privacy import PrivacyAction, PrivacyRequest
from fbs_core.errors import AdapterError

TOPIC = "MARKETPLACE_ACCOUNT_DELETION"
KEY_CACHE_SECONDS = 3600
DIGESTS = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}


def challenge_response(challenge_code: str, verification_token: str, endpoint_url: str) -> str:
    """The hex SHA-256 eBay expects back for a validation challenge."""
    digest = hashlib.sha256()
    for part in (challenge_code, verification_token, endpoint_url):
        digest.update(part.encode("utf-8"))
    return digest.hexdigest()


@dataclass(frozen=True)
class Signature:
    """The decoded ``X-EBAY-SIGNATURE`` header."""

    kid: str
    signature: bytes
    digest: str


def parse_signature(header: str | None) -> Signature | None:
    """Decode the header, or None if it is missing or not what eBay sends."""
    if not header:
        return None
    try:
        data = json.loads(base64.b64decode(header, validate=True))
        signature = base64.b64decode(str(data["signature"]), validate=True)
        kid = str(data["kid"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    if not kid or not signature or str(data.get("alg", "")).lower() != "ecdsa":
        return None
    return Signature(kid=kid, signature=signature, digest=str(data.get("digest") or "SHA1").upper())


class PublicKeys:
    """eBay's notification public keys by key id, each kept for an hour."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], tuple[float, ec.EllipticCurvePublicKey, str]] = {}

    def get(self, channel: OrderSource, kid: str) -> tuple[ec.EllipticCurvePublicKey, str] | None:
        """The key and its digest, fetched through ``channel``; None if eBay has no such key."""
        base = channel.endpoints.notification  # type: ignore[attr-defined]
        cache_key = (base, kid)
        with self._lock:
            cached = self._keys.get(cache_key)
            if cached and time.monotonic() - cached[0] < KEY_CACHE_SECONDS:
                return cached[1], cached[2]
        fetched = _fetch_key(channel, base, kid)
        if fetched is None:
            return None
        with self._lock:
            self._keys[cache_key] = (time.monotonic(), *fetched)
        return fetched


def _fetch_key(channel: Any, base: str, kid: str) -> tuple[ec.EllipticCurvePublicKey, str] | None:
    body = channel.notification_public_key(kid)
    if body is None:
        return None
    try:
        key = serialization.load_pem_public_key(str(body["key"]).encode())
    except (KeyError, ValueError, TypeError):
        raise AdapterError("eBay's public key is not a PEM key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise AdapterError("eBay's public key is not an elliptic-curve key")
    return key, str(body.get("digest") or "SHA1").upper()


KEYS = PublicKeys()


def _configured(instances: Mapping[str, OrderSource]) -> list[Any]:
    return [
        i
        for i in instances.values()
        if getattr(i.options, "verification_token", None) is not None
        and getattr(i.options, "endpoint_url", None) is not None
    ]


def handle_app_webhook(
    request: WebhookRequest, instances: Mapping[str, OrderSource]
) -> WebhookResult:
    """Answer eBay's validation challenge or act on a signed account deletion."""
    configured = _configured(instances)
    if request.path:
        return WebhookResult(status_code=404, message="no such endpoint")
    if not configured:
        return WebhookResult(
            status_code=404,
            message="no eBay instance sets verification_token and endpoint_url",
        )
    if request.method == "GET":
        code = request.query.get("challenge_code")
        if not code:
            return WebhookResult(status_code=400, message="challenge_code is missing")
        first = configured[0].options
        answer = challenge_response(
            code, first.verification_token.get_secret_value(), str(first.endpoint_url)
        )
        return WebhookResult(
            status_code=200, body={"challengeResponse": answer}, content_type="application/json"
        )
    if request.method != "POST":
        return WebhookResult(status_code=405, message="GET or POST", headers={"allow": "GET, POST"})
    return _notification(request, configured, list(instances.values()))


def _notification(
    request: WebhookRequest, configured: list[Any], every: list[Any]
) -> WebhookResult:
    signature = parse_signature(request.headers.get("x-ebay-signature"))
    if signature is None:
        configured[0].log.warning("refused an account deletion notification: no valid signature")
        return WebhookResult(status_code=412, message="missing or malformed X-EBAY-SIGNATURE")
    try:
        found = KEYS.get(configured[0], signature.kid)
    except AdapterError as exc:
        return WebhookResult(status_code=500, message=f"could not fetch eBay's key: {exc.message}")
    if found is None:
        configured[0].log.warning("refused an account deletion notification: unknown key id")
        return WebhookResult(status_code=412, message="unknown signing key")
    key, digest = found
    algorithm = DIGESTS.get(digest, hashes.SHA1)
    try:
        key.verify(signature.signature, request.body, ec.ECDSA(algorithm()))
    except InvalidSignature:
        configured[0].log.warning("refused an account deletion notification: bad signature")
        return WebhookResult(status_code=412, message="the signature does not verify")
    try:
        payload = json.loads(request.body)
        topic = payload["metadata"]["topic"]
        data = payload["notification"]["data"]
        username = str(data["username"])
    except (ValueError, KeyError, TypeError):
        return WebhookResult(status_code=400, message="not an account deletion notification")
    if topic != TOPIC:
        return WebhookResult(status_code=204, message=f"topic {topic} is not handled")
    requests = []
    for instance in every:
        try:
            store = instance.store_identity()
        except AdapterError as exc:
            return WebhookResult(status_code=500, message=f"store unknown: {exc.message}")
        requests.append(
            PrivacyRequest(
                action=PrivacyAction.erase,
                store_identity=store,
                channel_reference=("buyer", username),
                origin="ebay marketplace account deletion",
            )
        )
    return WebhookResult(status_code=204, privacy=tuple(requests), message="erased")
