"""The Stripe gateway against the behavioural contract checks."""

from __future__ import annotations

import json

from fbs_core.adapters import Adapter, PaymentGateway
from fbs_core.domain import ChargeBreakdown, ChargeRequest, Money
from fbs_core.testing.behaviour import HttpFailureContract
from fbs_payment_stripe.gateway import StripeGateway, StripeOptions


class TestStripeFailures(HttpFailureContract):
    def build_against(self, base_url: str) -> Adapter:
        options = StripeOptions(
            api_key="sk_test_contract",
            customer="cus_contract",
            payment_method="pm_card_visa",
            api_base=base_url,
            timeout=self.timeout_seconds,
        )
        return StripeGateway("stripe-main", options)

    def exercise(self, adapter: Adapter) -> None:
        assert isinstance(adapter, PaymentGateway)
        adapter.charge(
            ChargeRequest(
                idempotency_key="fbs-contract-charge-1",
                order_id=1,
                order_reference="#1001",
                amount=Money(cents=4599),
                breakdown=ChargeBreakdown(
                    parts=Money(cents=3999),
                    core_charges=Money(cents=0),
                    shipping=Money(cents=600),
                    tax=Money(cents=0),
                ),
                description="Parts for order #1001",
            )
        )

    def error_body(self, status: int) -> bytes:
        # Stripe's error object (components/schemas/error in the Stripe OpenAPI)
        kind = {401: "invalid_request_error", 429: "invalid_request_error"}.get(
            status, "api_error" if status >= 500 else "invalid_request_error"
        )
        return json.dumps({"error": {"type": kind, "message": "refused"}}).encode()
