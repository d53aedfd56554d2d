"""Every request the plugin sends validates against eBay's official document, in Prism.

Prism (``@stoplight/prism-cli``, installed by ``npm ci``) serves
``ebay/sell_fulfillment_v1_oas3.json`` and answers a request that breaks the document
with 400/422 and an ``sl-violations`` header. The plugin's calls go to Prism; only the
OAuth token comes from the imitation, since the document does not describe that endpoint.
Without Prism or the document the tests skip, except under ``CI``, where they fail.

Specified here:

* getOrders with the modification and fulfillment-status filter, ``limit`` and
  ``offset`` is accepted, and the plugin reads Prism's example page without failing;
* getShippingFulfillments then createShippingFulfillment (with the ``Content-Type``
  header the document requires) are accepted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from fbs_channel_ebay.ebay_channel import EbayChannel
from fbs_channel_ebay.ebay_options import EbayOptions
from fbs_core.domain import TrackingLine, TrackingPush
from fbs_core.testing.prism import running_prism
from fbs_core.testing.specs import spec_file

from .conftest import channel_options


class Recorder(httpx.HTTPTransport):
    """The default transport, keeping every request and its answer."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    spec = spec_file("ebay/sell_fulfillment_v1_oas3.json")
    with running_prism(spec, tmp_path_factory.mktemp("prism")) as url:
        yield url


@pytest.fixture
def against_prism(prism, server) -> Iterator[tuple[EbayChannel, Recorder]]:
    recorder = Recorder()
    options = EbayOptions(
        **{**channel_options(server.url), "api_url": prism, "seller_id": "seller"}
    )
    channel = EbayChannel("ebay-shop", options, transport=recorder)
    yield channel, recorder
    channel.close()


def _prism_answers(recorder: Recorder) -> list[tuple[str, str, int, str | None]]:
    return [
        (r.method, r.url.path, s.status_code, s.headers.get("sl-violations"))
        for r, s in recorder.exchanges
        if not r.url.path.startswith("/identity/")
    ]


def test_get_orders_with_filter_limit_and_offset_is_accepted(against_prism):
    channel, recorder = against_prism

    batch = channel.fetch_orders(
        '{"since": "2030-01-01T00:00:00.000Z", "offset": 0, "started": null, "newest": null}'
    )

    answers = _prism_answers(recorder)
    assert answers and all(a[2] == 200 and a[3] is None for a in answers), answers
    [(request, _)] = [x for x in recorder.exchanges if x[0].url.path == "/order"]
    assert request.url.params["filter"].startswith("lastmodifieddate:[2030-01-01T00:00:00.000Z..]")
    assert batch.cursor


def test_shipping_fulfillments_are_read_then_created_as_the_document_says(against_prism):
    channel, recorder = against_prism
    push = TrackingPush(
        idempotency_key="k1",
        external_order_id="01-03955-36441",
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        shipped_at=datetime(2030, 1, 2, tzinfo=UTC),
        lines=(
            TrackingLine(
                line_id="6254458", sku="A", quantity=1, channel_data={"line_item_id": "6254458"}
            ),
        ),
        completes_order=True,
    )

    channel.push_tracking(push)

    answers = _prism_answers(recorder)
    assert [(a[0], a[2], a[3]) for a in answers] == [("GET", 200, None), ("POST", 201, None)]
    assert all(a[1] == "/order/01-03955-36441/shipping_fulfillment" for a in answers)


def test_prism_refuses_what_breaks_the_document(prism):
    answer = httpx.post(
        f"{prism}/order/01-03955-36441/shipping_fulfillment",
        json={"lineItems": [{"lineItemId": "6254458", "quantity": "one"}]},
        headers={"Authorization": "Bearer t", "Content-Type": "application/json"},
    )

    assert answer.status_code in (400, 422)
    assert answer.headers.get("sl-violations")
