"""Fixtures: the Stripe imitation, Prism serving the official Stripe spec, sample requests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import stripe

from fbs_core.domain import ChargeBreakdown, ChargeRequest, Money, RefundRequest
from fbs_core.testing.prism import running_prism
from fbs_core.testing.specs import spec_file
from fbs_payment_stripe.gateway import StripeGateway, StripeOptions
from fbs_sandbox.serving import RunningServer, serve
from fbs_sandbox.stripe_imitation import StripeImitation

API_KEY = "sk_test_fbs0123456789abcdef"
CUSTOMER = "cus_merchant"


@dataclass
class Exchange:
    """One HTTP request the Stripe SDK made and the response it got."""

    method: str
    url: str
    request_headers: dict[str, str]
    body: str
    status: int
    response_headers: dict[str, str]


class RecordingHTTPClient(stripe.RequestsClient):
    """The SDK's default HTTP client, keeping every exchange for assertions."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exchanges: list[Exchange] = []

    def request(self, method: str, url: str, headers: Any, post_data: Any = None) -> Any:
        content, status, response_headers = super().request(method, url, headers, post_data)
        self.exchanges.append(
            Exchange(
                method=method.upper(),
                url=url,
                request_headers={k.lower(): v for k, v in (headers or {}).items()},
                body=post_data.decode() if isinstance(post_data, bytes) else post_data or "",
                status=status,
                response_headers={k.lower(): v for k, v in response_headers.items()},
            )
        )
        return content, status, response_headers


@pytest.fixture
def recorder() -> Iterator[RecordingHTTPClient]:
    """A Stripe SDK HTTP client that records every exchange."""
    client = RecordingHTTPClient(timeout=30)
    yield client
    client.close()


@dataclass
class Prism:
    """A running ``prism mock`` of the Stripe spec."""

    url: str
    spec: dict[str, Any]


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    """Serve ``stripe/spec3.prism-mock.json`` with Prism on a free loopback port."""
    spec = spec_file("stripe/spec3.prism-mock.json")
    with running_prism(spec, tmp_path_factory.mktemp("prism")) as url:
        yield Prism(url=url, spec=json.loads(spec.read_text()))


@pytest.fixture
def imitation() -> StripeImitation:
    """A fresh Stripe account holding one merchant customer and Stripe's test cards."""
    return StripeImitation(API_KEY, customer=CUSTOMER)


@pytest.fixture
def stripe_server(imitation: StripeImitation) -> Iterator[RunningServer]:
    """The imitation served on 127.0.0.1."""
    server = serve(imitation.app)
    yield server
    server.stop()


GatewayFactory = Callable[..., StripeGateway]


@pytest.fixture
def make_gateway(stripe_server: RunningServer) -> Iterator[GatewayFactory]:
    """Build gateways against the imitation; keyword arguments override options."""
    built: list[StripeGateway] = []

    def make(**overrides: Any) -> StripeGateway:
        options = {
            "api_key": API_KEY,
            "customer": CUSTOMER,
            "payment_method": "pm_card_visa",
            "api_base": stripe_server.url,
            "timeout": 10,
            **overrides,
        }
        gateway = StripeGateway("stripe-main", StripeOptions(**options))
        built.append(gateway)
        return gateway

    yield make
    for gateway in built:
        gateway.close()


def _usd(cents: int) -> Money:
    return Money(cents=cents, currency="USD")


@pytest.fixture
def charge_request() -> Callable[..., ChargeRequest]:
    """Build a charge of parts 120.00 + core 25.00 + shipping 14.50 + tax 9.60 = 169.10."""

    def make(key: str = "charge:order-7:1", **changes: Any) -> ChargeRequest:
        request = ChargeRequest(
            idempotency_key=key,
            order_id=7,
            order_reference="#1007",
            amount=_usd(16910),
            breakdown=ChargeBreakdown(
                parts=_usd(12000), core_charges=_usd(2500), shipping=_usd(1450), tax=_usd(960)
            ),
            description="fbs order #1007 (woo-main)",
            metadata={"channel": "woo-main"},
        )
        return request.model_copy(update=changes)

    return make


@pytest.fixture
def refund_request() -> Callable[..., RefundRequest]:
    """Build a refund of ``cents`` on PaymentIntent ``reference``."""

    def make(reference: str, cents: int, key: str = "refund:order-7:1") -> RefundRequest:
        return RefundRequest(
            idempotency_key=key,
            order_id=7,
            charge_reference=reference,
            amount=_usd(cents),
            reason="warehouse cancelled line 2",
        )

    return make
