"""The webhook server over real HTTP on 127.0.0.1, with fake channels."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

import httpx
import pytest
from pydantic import BaseModel, ConfigDict

import fbs_core
from fbs_core.adapters import OrderSource, WebhookRequest, WebhookResult
from fbs_core.config import Settings
from fbs_core.domain import OrderBatch
from fbs_core.plugins import build_runtime, make_plugin_manager
from fbs_core.server import WebhookServer, create_webhook_app
from fbs_core.types import OrderSourceType

GOOD = "let-me-in"


class FakeChannel(OrderSource):
    """Accepts a delivery whose ``X-Signature`` header is ``let-me-in``."""

    def __init__(self, name: str) -> None:
        super().__init__(name, options=None)
        self.deliveries: list[tuple[dict[str, str], bytes]] = []

    def fetch_orders(self, cursor: str | None) -> OrderBatch:
        return OrderBatch()

    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        self.deliveries.append((dict(headers), body))
        if headers.get("x-signature") != GOOD:
            return WebhookResult(status_code=401, message="bad signature")
        return WebhookResult(status_code=200, poll_now=True, message="polling")


class ExplodingChannel(FakeChannel):
    def handle_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookResult:
        raise RuntimeError("plugin bug with secret detail")


class Polls:
    def __init__(self) -> None:
        self.names: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, instance: str) -> None:
        with self._lock:
            self.names.append(instance)


@pytest.fixture
def shop() -> FakeChannel:
    return FakeChannel("shop")


@pytest.fixture
def polls() -> Polls:
    return Polls()


@pytest.fixture
def server(shop: FakeChannel, polls: Polls) -> Iterator[WebhookServer]:
    app = create_webhook_app({"shop": shop, "broken": ExplodingChannel("broken")}, polls)
    running = WebhookServer(app, "127.0.0.1", 0).start()
    yield running
    running.stop()


def test_healthz(server):
    assert httpx.get(f"{server.url}/healthz").status_code == 200


def test_a_verified_delivery_asks_for_a_poll_of_that_instance(server, shop, polls):
    response = httpx.post(
        f"{server.url}/webhooks/shop", content=b'{"id": 7}', headers={"X-Signature": GOOD}
    )

    assert response.status_code == 200
    assert response.json()["poll_now"] is True
    assert polls.names == ["shop"]
    assert shop.deliveries[0][1] == b'{"id": 7}'  # the raw body, byte for byte


def test_a_bad_signature_is_refused_and_nothing_is_polled(server, polls):
    response = httpx.post(
        f"{server.url}/webhooks/shop", content=b"{}", headers={"X-Signature": "forged"}
    )

    assert response.status_code == 401
    assert polls.names == []


def test_an_unknown_instance_is_404(server, shop, polls):
    response = httpx.post(f"{server.url}/webhooks/nope", content=b"{}")

    assert response.status_code == 404
    assert shop.deliveries == []
    assert polls.names == []


def test_a_plugin_exception_is_a_generic_500_and_the_server_keeps_serving(server, polls, caplog):
    response = httpx.post(f"{server.url}/webhooks/broken", content=b"{}")

    assert response.status_code == 500
    assert "secret detail" not in response.text
    assert any("broken" in r.getMessage() for r in caplog.records)
    after = httpx.post(f"{server.url}/webhooks/shop", content=b"{}", headers={"X-Signature": GOOD})
    assert after.status_code == 200
    assert polls.names == ["shop"]


def test_a_body_over_5_mb_is_refused_with_413_before_the_plugin_sees_it(server, shop):
    response = httpx.post(
        f"{server.url}/webhooks/shop",
        content=b"x" * (5 * 1024 * 1024 + 1),
        headers={"X-Signature": GOOD},
    )

    assert response.status_code == 413
    assert shop.deliveries == []


def test_a_chunked_body_over_the_limit_is_refused_too(shop, polls):
    app = create_webhook_app({"shop": shop}, polls, max_body_bytes=1024)
    with WebhookServer(app, "127.0.0.1", 0) as running:

        def chunks() -> Iterator[bytes]:
            for _ in range(8):
                yield b"y" * 512

        response = httpx.post(
            f"{running.url}/webhooks/shop", content=chunks(), headers={"X-Signature": GOOD}
        )

    assert response.status_code == 413
    assert shop.deliveries == []


class ChallengeChannel(FakeChannel):
    """Answers a GET challenge with a computed body, as channels that verify endpoints do."""

    def handle_webhook_request(self, request: WebhookRequest) -> WebhookResult:
        if request.method == "GET" and request.path == "verify":
            answer = f"answer-to-{request.query.get('challenge_code', '')}"
            return WebhookResult(
                status_code=200,
                body={"challengeResponse": answer},
                headers={"x-fbs-handled-by": self.name},
            )
        return super().handle_webhook_request(request)


def _app_level(request: WebhookRequest, instances: Mapping[str, OrderSource]) -> WebhookResult:
    if request.headers.get("x-signature") != GOOD:
        return WebhookResult(status_code=401, message="bad signature")
    return WebhookResult(
        status_code=200, body=",".join(sorted(instances)), content_type="text/plain"
    )


@pytest.fixture
def extended(shop: FakeChannel, polls: Polls) -> Iterator[WebhookServer]:
    challenge = ChallengeChannel("ebay-store")
    app = create_webhook_app(
        {"shop": shop, "ebay-store": challenge},
        polls,
        app_webhooks={"fake-app": (_app_level, {"ebay-store": challenge, "shop": shop})},
    )
    running = WebhookServer(app, "127.0.0.1", 0).start()
    yield running
    running.stop()


def test_a_get_challenge_is_answered_with_the_plugins_body_and_headers(extended, polls):
    response = httpx.get(
        f"{extended.url}/webhooks/ebay-store/verify", params={"challenge_code": "abc"}
    )

    assert response.status_code == 200
    assert response.json() == {"challengeResponse": "answer-to-abc"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-fbs-handled-by"] == "ebay-store"
    assert polls.names == []


def test_a_channel_with_only_handle_webhook_refuses_get_and_sub_paths(extended, shop):
    get = httpx.get(f"{extended.url}/webhooks/shop")
    sub = httpx.post(f"{extended.url}/webhooks/shop/extra", headers={"X-Signature": GOOD})

    assert get.status_code == 405
    assert get.headers["allow"] == "POST"
    assert sub.status_code == 404
    assert shop.deliveries == []


def test_an_app_level_delivery_reaches_the_type_handler_with_every_instance(extended, polls):
    response = httpx.post(
        f"{extended.url}/app-webhooks/fake-app/customers-redact",
        content=b"{}",
        headers={"X-Signature": GOOD},
    )
    forged = httpx.post(f"{extended.url}/app-webhooks/fake-app", content=b"{}")
    unknown = httpx.post(f"{extended.url}/app-webhooks/nope", content=b"{}")

    assert (response.status_code, response.text) == (200, "ebay-store,shop")
    assert response.headers["content-type"].startswith("text/plain")
    assert forged.status_code == 401
    assert unknown.status_code == 404
    assert polls.names == []


class AppWebhookPlugin:
    """Registers channel type ``fake-app`` whose type answers app-level deliveries."""

    @fbs_core.hookimpl
    def fbs_order_sources(self):
        yield OrderSourceType(
            name="fake-app",
            options_model=NoOptions,
            factory=lambda name, options: FakeChannel(name),
            app_webhook=_app_level,
        )


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


def test_the_runtime_serves_app_level_endpoints_of_the_types_in_use() -> None:
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(AppWebhookPlugin(), name="fake-app-plugin")
    settings = Settings.model_validate(
        {
            "channels": {
                "first": {"type": "fake-app"},
                "second": {"type": "fake-app"},
                "paused": {"type": "fake-app", "enabled": False},
            }
        }
    )

    runtime = build_runtime(settings, pm)

    endpoints = runtime.app_webhooks()
    assert list(endpoints) == ["fake-app"]
    handler, instances = endpoints["fake-app"]
    assert handler is _app_level
    assert sorted(instances) == ["first", "second"]
