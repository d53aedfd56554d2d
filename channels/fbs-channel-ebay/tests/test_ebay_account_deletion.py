"""Marketplace account deletion notifications at ``/app-webhooks/ebay``.

Specified here:

* eBay's GET challenge is answered with hex SHA-256 of challenge code + verification
  token + endpoint URL, as JSON;
* a notification signed with eBay's key (fetched by key id with an application token,
  then cached) asks the core to erase that eBay user's orders in every eBay store;
* unsigned, forged (another key) or unknown-key notifications are refused 412 and ask
  for nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from fbs_channel_ebay.ebay_webhooks import handle_app_webhook
from fbs_core.adapters import WebhookRequest
from fbs_core.domain.privacy import PrivacyAction

from .conftest import VERIFICATION_TOKEN

ENDPOINT = "https://fbs.example.com/app-webhooks/ebay"


def deletion(username: str = "pat_buyer_77") -> bytes:
    return json.dumps(
        {
            "metadata": {
                "topic": "MARKETPLACE_ACCOUNT_DELETION",
                "schemaVersion": "1.0",
                "deprecated": False,
            },
            "notification": {
                "notificationId": "49feeaeb-4982-42d9-a377-9645b8479411_33f7e043-fed8-442b-9d44-791923bd9a6d",
                "eventDate": "2030-03-19T20:43:59.462Z",
                "publishDate": "2030-03-19T20:43:59.679Z",
                "publishAttemptCount": 1,
                "data": {
                    "username": username,
                    "userId": "ma8vp1jySJC",
                    "eiasToken": "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6wJnY+gAZGEpwmdj6x9nY+seQ==",
                },
            },
        }
    ).encode()


@pytest.fixture
def instances(make_channel):
    return {
        "ebay-shop": make_channel(
            verification_token=VERIFICATION_TOKEN,
            endpoint_url=ENDPOINT,
            seller_id="fbs-parts-seller",
        )
    }


def post(instances, body: bytes, signature: str | None):
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["x-ebay-signature"] = signature
    return handle_app_webhook(WebhookRequest("POST", headers=headers, body=body), instances)


def test_the_challenge_is_answered_with_the_documented_hash(instances):
    answer = handle_app_webhook(
        WebhookRequest("GET", query={"challenge_code": "a8628072-3d33-45ee-9004-bee86830a22d"}),
        instances,
    )

    expected = hashlib.sha256(
        ("a8628072-3d33-45ee-9004-bee86830a22d" + VERIFICATION_TOKEN + ENDPOINT).encode()
    ).hexdigest()
    assert answer.status_code == 200
    assert answer.body == {"challengeResponse": expected}
    assert answer.content_type == "application/json"


def test_a_genuine_notification_asks_to_erase_that_users_orders(imitation, instances):
    body = deletion()

    answer = post(instances, body, imitation.signature_header(body))

    assert answer.status_code == 204
    [request] = answer.privacy
    assert request.action is PrivacyAction.erase
    assert request.store_identity == "ebay:fbs-parts-seller"
    assert request.channel_reference == ("buyer", "pat_buyer_77")


def test_the_public_key_is_fetched_once_per_key_id(imitation, server, instances):
    before = len(server.log.matching("GET", "/commerce/notification/v1/public_key/"))
    for name in ("a", "b", "c"):
        body = deletion(name)
        assert post(instances, body, imitation.signature_header(body)).status_code == 204

    assert len(server.log.matching("GET", "/commerce/notification/v1/public_key/")) - before <= 1


def test_unsigned_forged_or_unknown_key_notifications_are_refused(imitation, instances):
    body = deletion()
    forger = ec.generate_private_key(ec.SECP256R1())
    forged = imitation.signature_header(body, key=forger)
    tampered = imitation.signature_header(body)
    decoded = json.loads(base64.b64decode(imitation.signature_header(body)))
    unknown = base64.b64encode(json.dumps({**decoded, "kid": "no-such-key"}).encode()).decode()

    answers = [
        post(instances, body, None),
        post(instances, body, "not-base64!"),
        post(instances, body, forged),
        post(instances, deletion("someone_else"), tampered),
        post(instances, body, unknown),
    ]

    assert [a.status_code for a in answers] == [412, 412, 412, 412, 412]
    assert all(a.privacy == () for a in answers)
