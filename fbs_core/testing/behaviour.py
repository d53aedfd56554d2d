"""Behavioural contract checks: what a plugin does, not only how it is shaped.

Mix these into a test class (``Test`` prefix) next to the structural contracts of
:mod:`fbs_core.testing.contracts`:

* :class:`HttpFailureContract`: each class of HTTP failure becomes the right error type
  (5xx and timeouts retriable, 429 retriable after its ``Retry-After``, 401/403
  :class:`~fbs_core.errors.AuthError`, other 4xx :class:`~fbs_core.errors.FatalError`).
  The adapter is pointed at a local server that answers every request with one failure.
* :class:`WebhookSignatureContract`: a delivery whose signature is missing, forged or
  computed over another body is refused with 401 and asks for nothing; a good one passes.
* :class:`IdempotentPurchaseOrderContract`: placing the same PO number twice is one
  purchase order at the warehouse, with the same answer both times; asking twice to
  stop part of it (``keep``) stops the units once.

Each class says which methods the subclass provides.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from ..adapters import Adapter, OrderSource, Supplier, WebhookRequest
from ..domain import PurchaseOrderRequest
from ..errors import AdapterError, AuthError, FatalError, RetriableError


@dataclass
class CannedAnswer:
    """What the failing server answers to every request."""

    status: int
    body: bytes = b'{"error": "failure"}'
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


class FailingServer:
    """An HTTP server on 127.0.0.1 that answers every request with :class:`CannedAnswer`."""

    def __init__(self) -> None:
        self.answer = CannedAnswer(500)
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                server.requests += 1
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                answer = server.answer
                if answer.delay_seconds:
                    time.sleep(answer.delay_seconds)
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout check)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()


class HttpFailureContract:
    """Each HTTP failure class maps to the right error type.

    Provide ``build_against(base_url) -> Adapter`` (the adapter aimed at ``base_url``,
    with a timeout of at most ``timeout_seconds``) and ``exercise(adapter)`` (one call
    that reaches the remote: a poll, a stock query, a charge). Override
    ``error_body(status)`` to send the vendor's documented error shape.
    """

    timeout_seconds: ClassVar[float] = 1.0

    def build_against(self, base_url: str) -> Adapter:
        """The adapter under test, aimed at ``base_url``."""
        raise NotImplementedError

    def exercise(self, adapter: Adapter) -> None:
        """One call of the adapter that reaches the remote."""
        raise NotImplementedError

    def error_body(self, status: int) -> bytes:
        """The error body the failing server sends with ``status``."""
        return b'{"error": "failure", "message": "the server says no"}'

    @pytest.fixture
    def failing_server(self) -> Iterator[FailingServer]:
        """A server that answers every request with one canned failure."""
        server = FailingServer()
        yield server
        server.stop()

    def _outcome(self, server: FailingServer, answer: CannedAnswer) -> AdapterError:
        server.answer = answer
        adapter = self.build_against(server.url)
        try:
            with pytest.raises(AdapterError) as raised:
                self.exercise(adapter)
        finally:
            adapter.close()
        return raised.value

    @pytest.mark.parametrize("status", [500, 502, 503, 504])
    def test_a_server_error_is_retriable(self, failing_server: FailingServer, status: int) -> None:
        """5xx: the same call may succeed later."""
        error = self._outcome(failing_server, CannedAnswer(status, self.error_body(status)))
        assert isinstance(error, RetriableError), f"{status} gave {type(error).__name__}"

    def test_429_is_retriable_after_the_servers_retry_after(
        self, failing_server: FailingServer
    ) -> None:
        """429: retried no sooner than ``Retry-After`` says."""
        error = self._outcome(
            failing_server, CannedAnswer(429, self.error_body(429), {"Retry-After": "7"})
        )
        assert isinstance(error, RetriableError), f"429 gave {type(error).__name__}"
        assert error.retry_after == 7

    @pytest.mark.parametrize("status", [401, 403])
    def test_refused_credentials_are_an_auth_error(
        self, failing_server: FailingServer, status: int
    ) -> None:
        """401/403: the merchant must fix the credentials."""
        error = self._outcome(failing_server, CannedAnswer(status, self.error_body(status)))
        assert isinstance(error, AuthError), f"{status} gave {type(error).__name__}"

    @pytest.mark.parametrize("status", [400, 404, 422])
    def test_a_refused_request_is_fatal_and_never_retried(
        self, failing_server: FailingServer, status: int
    ) -> None:
        """Other 4xx: sending the same request again cannot help."""
        error = self._outcome(failing_server, CannedAnswer(status, self.error_body(status)))
        assert isinstance(error, FatalError), f"{status} gave {type(error).__name__}"
        assert not isinstance(error, AuthError)

    def test_a_server_that_does_not_answer_in_time_is_retriable(
        self, failing_server: FailingServer
    ) -> None:
        """A timeout is retriable: the remote may have done nothing."""
        answer = CannedAnswer(200, b"{}", delay_seconds=self.timeout_seconds + 2)
        error = self._outcome(failing_server, answer)
        assert isinstance(error, RetriableError), f"a timeout gave {type(error).__name__}"

    def test_a_closed_port_is_retriable(self) -> None:
        """Nobody listening is retriable: the remote may come back."""
        server = FailingServer()
        url = server.url
        server.stop()
        adapter = self.build_against(url)
        try:
            with pytest.raises(RetriableError):
                self.exercise(adapter)
        finally:
            adapter.close()


class WebhookSignatureContract:
    """A webhook delivery is accepted only with a valid signature over its raw body.

    Provide ``channel()`` (an adapter with its webhook secret set) and
    ``signed_delivery() -> (headers, body)`` (a delivery the real channel would send,
    signed with that secret, of a topic that asks for a poll).
    """

    def channel(self) -> OrderSource:
        """The channel under test, with its webhook secret set."""
        raise NotImplementedError

    def signed_delivery(self) -> tuple[dict[str, str], bytes]:
        """Headers and raw body of a genuine, signed delivery that asks for a poll."""
        raise NotImplementedError

    def _deliver(self, headers: Mapping[str, str], body: bytes) -> Any:
        request = WebhookRequest(
            method="POST", headers={k.lower(): v for k, v in headers.items()}, body=body
        )
        return self.channel().handle_webhook_request(request)

    def test_a_correctly_signed_delivery_is_accepted(self) -> None:
        """A genuine delivery is accepted and asks for a poll."""
        headers, body = self.signed_delivery()
        result = self._deliver(headers, body)
        assert 200 <= result.status_code < 300
        assert result.poll_now

    def test_a_delivery_whose_body_was_changed_is_refused(self) -> None:
        """A signature over another body is refused."""
        headers, body = self.signed_delivery()
        result = self._deliver(headers, body + b" ")
        assert (result.status_code, result.poll_now) == (401, False)

    def test_a_forged_signature_is_refused(self) -> None:
        """A made-up signature is refused."""
        headers, body = self.signed_delivery()
        forged = {
            name: ("Zm9yZ2Vk" if "signature" in name.lower() or "hmac" in name.lower() else value)
            for name, value in headers.items()
        }
        assert forged != headers, "signed_delivery() has no signature header to forge"
        result = self._deliver(forged, body)
        assert (result.status_code, result.poll_now) == (401, False)

    def test_an_unsigned_delivery_is_refused(self) -> None:
        """A delivery without a signature is refused."""
        headers, body = self.signed_delivery()
        unsigned = {
            name: value
            for name, value in headers.items()
            if "signature" not in name.lower() and "hmac" not in name.lower()
        }
        result = self._deliver(unsigned, body)
        assert (result.status_code, result.poll_now) == (401, False)


class IdempotentPurchaseOrderContract:
    """A retried purchase order, or a retried partial cancel, has one effect.

    Placing the same PO number twice is one purchase order at the warehouse; asking twice
    to stop part of it stops the units once.

    Provide ``supplier()`` (aimed at a sandbox that holds stock of the request's parts),
    ``purchase_order()`` (a request it can fill) and ``orders_at_warehouse(po_number)``
    (how many purchase orders with that number the sandbox holds).
    """

    def supplier(self) -> Supplier:
        """The supplier under test, aimed at a sandbox with stock."""
        raise NotImplementedError

    def purchase_order(self) -> PurchaseOrderRequest:
        """A purchase order the sandbox can fill."""
        raise NotImplementedError

    def orders_at_warehouse(self, po_number: str) -> int:
        """How many purchase orders numbered ``po_number`` the sandbox holds."""
        raise NotImplementedError

    def test_the_same_po_number_placed_twice_is_one_purchase_order(self) -> None:
        """A retried PO is harmless: one order, the same answer."""
        supplier = self.supplier()
        request = self.purchase_order()
        first = supplier.place_order(request)
        again = supplier.place_order(request)
        assert self.orders_at_warehouse(request.po_number) == 1
        assert first.po_number == again.po_number == request.po_number
        assert first.supplier_reference == again.supplier_reference

    def test_a_partial_cancel_asked_twice_stops_the_units_once(self) -> None:
        """``keep`` is a target, not a count: asking again stops nothing more.

        Needs the sandbox not to have shipped the order yet and the request's first line
        to have two units or more.
        """
        supplier = self.supplier()
        request = self.purchase_order()
        line = request.lines[0]
        assert line.quantity >= 2, "the contract needs a first line of two units or more"
        supplier.place_order(request)
        keep = {line.sku: line.quantity - 1}
        first = supplier.cancel_order(request.po_number, keep=keep)
        again = supplier.cancel_order(request.po_number, keep=keep)
        stopped = {x.sku: x.quantity for x in first.cancelled}
        assert stopped == {line.sku: 1}
        assert {x.sku: x.quantity for x in again.cancelled} == stopped
