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

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fbs_channel_ebay.ebay_channel import EbayChannel
from fbs_channel_ebay.ebay_options import EbayOptions
from fbs_core.domain import TrackingLine, TrackingPush
from fbs_core.testing.specs import spec_file, unavailable
from fbs_sandbox.serving import free_port

from .conftest import channel_options

REPO_ROOT = Path(__file__).resolve().parents[3]


def prism_binary() -> str | None:
    """``FBS_PRISM``, else the repository's ``node_modules/.bin/prism``, else PATH."""
    if os.environ.get("FBS_PRISM"):
        return os.environ["FBS_PRISM"]
    local = REPO_ROOT / "node_modules" / ".bin" / "prism"
    return str(local) if local.exists() else shutil.which("prism")


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
    binary = prism_binary()
    if binary is None:
        unavailable("Prism not installed: run `npm ci` at the repository root or set FBS_PRISM")
    if shutil.which("node") is None:
        unavailable("Node.js is not on PATH; Prism needs it")
    port = free_port()
    log_path = tmp_path_factory.mktemp("prism") / "prism.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [binary, "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                unavailable(
                    f"Prism exited with code {process.returncode}: {log_path.read_text()[-2000:]}"
                )
            try:
                httpx.get(f"{url}/order", timeout=2, headers={"Authorization": "Bearer probe"})
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    pytest.fail(f"Prism did not listen on {url} within 90 s; log: {log_path}")
                time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # its own session: Prism and nothing else
            process.wait(timeout=10)


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
