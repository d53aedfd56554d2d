"""A local imitation of the Stripe endpoints fbs charges and refunds through.

It follows Stripe's documented v1 behaviour closely enough that a correct client
cannot tell the difference for these calls:

* form-encoded request bodies with bracketed nesting (``metadata[fbs_order_id]=7``);
* ``Authorization: Bearer sk_test_...`` (or HTTP Basic with the key as user name);
  a missing or wrong key gets 401 with Stripe's error body;
* off-session confirmed PaymentIntents that succeed, or fail with a 402 ``card_error``
  for Stripe's test payment methods (``pm_card_chargeDeclined`` …);
* idempotency as Stripe documents it: the status and body of the first request for an
  ``Idempotency-Key`` are saved once the endpoint starts executing (errors included) and
  replayed with ``Idempotent-Replayed: true``; the same key with other parameters gets
  400 ``idempotency_error``; requests that fail parameter validation save nothing;
* refunds that refuse to give back more than remains on the payment;
* lists (``GET /v1/payment_intents``, ``GET /v1/refunds``) newest first with Stripe's
  cursor pagination (``limit``, ``starting_after`` / ``ending_before``, ``has_more``); the
  refund list takes only the filters Stripe's OpenAPI documents for it (``payment_intent``,
  ``charge``, ``created``), see ``_objects``;
* PaymentIntent search for one clause of Stripe's search query language,
  ``metadata['key']:'value'`` (exact match; single or double quotes, a backslash
  escapes the next character); any other query gets Stripe's 400. Unlike Stripe, new objects
  are searchable at once.

The parts live in private modules: ``_form`` (form decoding and parameter checks),
``_requests`` (authentication, fault injection and idempotency replay), ``_state`` (the
account's objects and the Python API), ``_objects`` (the PaymentIntent, Refund and
Customer endpoints) and ``_search`` (PaymentIntent search).

The counters (``charges``, ``refunds``, ``duplicate_effects`` …) let tests and the demo
prove that a crash-and-retry never charged or refunded twice.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.routing import Route

from ._form import StripeApiError, parse_form
from ._objects import _Objects
from ._requests import _Requests
from ._search import _Search
from ._state import OUTCOMES, STRIPE_TEST_PAYMENT_METHODS, _Ledger, _State

__all__ = [
    "OUTCOMES",
    "STRIPE_TEST_PAYMENT_METHODS",
    "StripeApiError",
    "StripeImitation",
    "parse_form",
]


class StripeImitation(_Ledger, _Requests, _Objects, _Search):
    """Stripe's PaymentIntent, Refund and Customer endpoints for one test-mode account.

    Args:
        api_key: the only secret key accepted (``sk_test_...``).
        customer: id of the account's one customer (the merchant).
        payment_methods: extra payment method ids and the outcome of confirming each
            (one of ``OUTCOMES``), added to Stripe's test ones such as ``pm_card_visa``.
    """

    def __init__(
        self,
        api_key: str,
        *,
        customer: str = "cus_demo",
        payment_methods: Mapping[str, str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.customer = customer
        self.payment_methods = {**STRIPE_TEST_PAYMENT_METHODS, **(payment_methods or {})}
        unknown = {o for o in self.payment_methods.values() if o not in OUTCOMES}
        if unknown:
            raise ValueError(f"unknown payment method outcome(s) {sorted(unknown)}; "
                             f"use one of {OUTCOMES}")  # fmt: skip
        self._lock = threading.Lock()
        self._state = _State()
        self.app = Starlette(
            routes=[
                Route("/v1/payment_intents", self._payment_intents, methods=["GET", "POST"]),
                Route("/v1/payment_intents/search", self._search, methods=["GET"]),
                Route("/v1/payment_intents/{id}", self._payment_intent, methods=["GET"]),
                Route("/v1/refunds", self._refunds, methods=["GET", "POST"]),
                Route("/v1/refunds/{id}", self._refund, methods=["GET"]),
                Route("/v1/customers/{id}", self._customer, methods=["GET"]),
                Route("/{path:path}", self._unknown, methods=["GET", "POST", "DELETE"]),
            ]
        )
