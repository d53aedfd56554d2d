"""Options, registration and the pure request builders of the Stripe gateway."""

from __future__ import annotations

from importlib.metadata import entry_points
from types import SimpleNamespace

import pytest
import stripe
from pydantic import ValidationError

import fbs_payment_stripe.plugin
from fbs_core.errors import AuthError, FatalError, PaymentDeclined, RetriableError
from fbs_payment_stripe.errors import from_stripe, redact
from fbs_payment_stripe.gateway import (
    StripeGateway,
    StripeOptions,
    charge_result,
    payment_intent_params,
    refund_params,
    refund_result,
)

VALID = {"api_key": "sk_live_abcdef123456", "customer": "cus_M1", "payment_method": "pm_1Abc"}


def test_plugin_registers_the_stripe_type_through_the_fbs_entry_point():
    [entry] = [e for e in entry_points(group="fbs") if e.name == "fbs-payment-stripe"]
    assert entry.load() is fbs_payment_stripe.plugin

    [gateway_type] = fbs_payment_stripe.plugin.fbs_payment_gateways()
    assert (gateway_type.name, gateway_type.kind) == ("stripe", "payment")
    assert gateway_type.options_model is StripeOptions


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"api_key": "pk_live_abcdef"}, "api_key"),
        ({"customer": "merchant-1"}, "customer"),
        ({"payment_method": "4242424242424242"}, "payment_method"),
        ({"timeout": 0}, "timeout"),
        ({"statement_descriptor_suffix": "X" * 23}, "statement_descriptor_suffix"),
        ({"api_base": "127.0.0.1:4010"}, "api_base"),
        ({"secret": "x"}, "secret"),
    ],
)
def test_options_refuse_bad_values_naming_the_field(change, field):
    with pytest.raises(ValidationError) as caught:
        StripeOptions(**{**VALID, **change})

    assert caught.value.errors()[0]["loc"] == (field,)


def test_gateway_builds_without_network_and_hides_the_key():
    gateway = StripeGateway("stripe-main", StripeOptions(**VALID))

    assert VALID["api_key"] not in repr(gateway)
    assert VALID["api_key"] not in repr(gateway.options)
    assert gateway.log.name == "fbs.payment.stripe-main"


def test_payment_intent_params_keep_fbs_metadata_over_the_requests_own(charge_request):
    request = charge_request(metadata={"fbs_order_id": "999", "channel": "woo-main"})

    params = payment_intent_params(request, StripeOptions(**VALID))

    assert params["metadata"]["fbs_order_id"] == "7"
    assert params["metadata"]["channel"] == "woo-main"
    assert params == payment_intent_params(request, StripeOptions(**VALID))
    assert "statement_descriptor_suffix" not in params


def test_refund_params_refund_the_payment_intent(refund_request):
    params = refund_params(refund_request("pi_123", 2500))

    assert params == {
        "payment_intent": "pi_123",
        "amount": 2500,
        "reason": "requested_by_customer",
        "metadata": {
            "fbs_order_id": "7",
            "fbs_idempotency_key": "refund:order-7:1",
            "fbs_reason": "warehouse cancelled line 2",
        },
    }


def test_redact_removes_secret_and_restricted_keys():
    assert redact("bad key sk_test_abc123 and rk_live_XY*Z9") == (
        "bad key [redacted key] and [redacted key]"
    )


@pytest.mark.parametrize(
    ("error", "family", "code"),
    [
        (stripe.RateLimitError("slow down", http_status=429), RetriableError, "rate_limited"),
        (stripe.APIConnectionError("reset"), RetriableError, "upstream_unreachable"),
        (stripe.APIError("boom", http_status=500), RetriableError, "upstream_unavailable"),
        (stripe.APIError("busy", http_status=409), RetriableError, "upstream_unavailable"),
        (stripe.AuthenticationError("Invalid API Key provided: sk_test_****abcd",
                                    http_status=401), AuthError, "auth_failed"),
        (stripe.PermissionError("no", http_status=403), AuthError, "auth_failed"),
        (stripe.IdempotencyError("other params", http_status=400), FatalError,
         "idempotency_conflict"),
        (stripe.InvalidRequestError("No such customer", "customer", code="resource_missing",
                                    http_status=400), FatalError, "resource_missing"),
        (stripe.CardError("declined", None, "card_declined", http_status=402),
         PaymentDeclined, "card_declined"),
        (stripe.APIError("teapot", http_status=418), FatalError, "stripe_error"),
    ],
)  # fmt: skip
def test_stripe_errors_map_to_fbs_families(error, family, code):
    mapped = from_stripe(error, "charging order #1007")

    assert type(mapped) is family
    assert mapped.code == code
    assert "sk_test_" not in str(mapped)


def test_server_error_stripe_marks_as_not_retryable_is_fatal():
    error = stripe.APIError("no", http_status=500, headers={"Stripe-Should-Retry": "false"})

    assert type(from_stripe(error, "charging")) is FatalError


def _intent(status, **fields):
    return SimpleNamespace(id="pi_123", status=status, **fields)


def test_succeeded_intent_is_the_amount_stripe_received(charge_request):
    result = charge_result(_intent("succeeded", amount_received=16910), charge_request())

    assert (result.reference, result.amount.cents, result.amount.currency) == (
        "pi_123",
        16910,
        "USD",
    )


@pytest.mark.parametrize(
    ("intent", "code"),
    [
        (_intent("requires_action"), "authentication_required"),
        (
            _intent(
                "requires_payment_method",
                last_payment_error=SimpleNamespace(
                    code="card_declined", decline_code="expired_card", message="Expired."
                ),
            ),
            "expired_card",
        ),
    ],
)
def test_intent_waiting_for_the_cardholder_is_declined(charge_request, intent, code):
    with pytest.raises(PaymentDeclined) as caught:
        charge_result(intent, charge_request())

    assert caught.value.code == code
    assert "pi_123" in str(caught.value)


@pytest.mark.parametrize("status", ["processing", "canceled", "requires_capture", "string"])
def test_intent_in_any_other_status_is_not_counted_as_money(charge_request, status):
    with pytest.raises(FatalError) as caught:
        charge_result(_intent(status), charge_request())

    assert caught.value.code == "payment_incomplete"
    assert repr(status) in str(caught.value)


@pytest.mark.parametrize(("status", "ok"), [("succeeded", True), ("pending", True),
                                            ("failed", False), ("canceled", False)])  # fmt: skip
def test_refund_counts_only_when_stripe_accepted_it(refund_request, status, ok):
    refund = SimpleNamespace(id="re_1", status=status, amount=500)
    if ok:
        assert refund_result(refund, refund_request("pi_123", 500)).amount.cents == 500
    else:
        with pytest.raises(FatalError, match="has not gone back"):
            refund_result(refund, refund_request("pi_123", 500))
