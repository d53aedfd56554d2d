"""The Stripe gateway against the local Stripe imitation: charges, declines, retries, refunds."""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
import pytest

from fbs_core.domain import Money
from fbs_core.errors import AuthError, FatalError, PaymentDeclined, RetriableError
from fbs_sandbox.serving import free_port

API_KEY = "sk_test_fbs0123456789abcdef"


def _posts(server, path):
    return server.log.matching("POST", path)


# -- charges --------------------------------------------------------------------------


def test_charge_takes_the_amount_once_and_records_the_breakdown(
    make_gateway, charge_request, imitation, stripe_server
):
    result = make_gateway().charge(charge_request())

    assert result.reference.startswith("pi_")
    assert result.amount == Money(cents=16910, currency="USD")
    assert (imitation.charges, imitation.charged_cents) == (1, 16910)
    [intent] = imitation.payment_intents
    assert intent["id"] == result.reference
    assert intent["currency"] == "usd"
    assert intent["customer"] == "cus_merchant"
    assert intent["payment_method"] == "pm_card_visa"
    assert intent["description"] == "fbs order #1007 (woo-main)"
    assert intent["metadata"] == {
        "channel": "woo-main",
        "fbs_order_id": "7",
        "fbs_order_reference": "#1007",
        "fbs_idempotency_key": "charge:order-7:1",
        "parts_cents": "12000",
        "core_charges_cents": "2500",
        "shipping_cents": "1450",
        "tax_cents": "960",
    }
    [post] = _posts(stripe_server, "/v1/payment_intents")
    assert post.headers["idempotency-key"] == "charge:order-7:1"
    sent = dict(parse_qsl(post.body.decode()))
    assert (sent["off_session"], sent["confirm"]) == ("true", "true")


@pytest.mark.parametrize(
    ("payment_method", "code", "stripe_says"),
    [
        ("pm_card_chargeDeclined", "card_declined", "Your card was declined."),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", "insufficient funds"),
    ],
)
def test_declined_card_is_a_payment_declined_the_merchant_can_act_on(
    make_gateway, charge_request, imitation, payment_method, code, stripe_says
):
    with pytest.raises(PaymentDeclined) as caught:
        make_gateway(payment_method=payment_method).charge(charge_request())

    assert caught.value.code == code
    message = str(caught.value)
    assert f"Stripe declined the card on file ({code})" in message
    assert stripe_says in message
    assert message.endswith("Update the card, then retry the order.")
    assert imitation.payment_intents[0]["id"] in message
    assert (imitation.charges, imitation.charged_cents) == (0, 0)


def test_card_needing_authentication_off_session_is_declined_with_its_code(
    make_gateway, charge_request, imitation
):
    with pytest.raises(PaymentDeclined) as caught:
        make_gateway(payment_method="pm_card_authenticationRequired").charge(charge_request())

    assert caught.value.code == "authentication_required"
    assert "authenticate" in str(caught.value)
    assert imitation.charges == 0


def test_retry_after_a_crash_returns_the_first_payment_intent(
    make_gateway, charge_request, imitation
):
    request = charge_request()
    first = make_gateway().charge(request)
    # the process died before recording `first`; a new process retries the same command
    again = make_gateway().charge(request)

    assert again == first
    assert (imitation.charges, imitation.replays, imitation.duplicate_effects) == (1, 1, 0)


def test_response_lost_after_stripe_charged_is_retried_into_the_same_charge(
    make_gateway, charge_request, imitation
):
    gateway = make_gateway()
    imitation.fail_next(500, after_effect=True)
    with pytest.raises(RetriableError):
        gateway.charge(charge_request())

    result = gateway.charge(charge_request())

    assert result.reference == imitation.payment_intents[0]["id"]
    assert (imitation.charges, imitation.charged_cents) == (1, 16910)
    assert imitation.duplicate_effects == 0


def test_retried_decline_is_replayed_not_attempted_again(make_gateway, charge_request, imitation):
    gateway = make_gateway(payment_method="pm_card_chargeDeclined")
    for _ in range(2):
        with pytest.raises(PaymentDeclined):
            gateway.charge(charge_request())

    assert len(imitation.payment_intents) == 1
    assert imitation.replays == 1


def test_same_key_with_a_different_amount_is_an_idempotency_conflict(
    make_gateway, charge_request, imitation
):
    gateway = make_gateway()
    gateway.charge(charge_request())

    with pytest.raises(FatalError) as caught:
        gateway.charge(charge_request(amount=Money(cents=17000, currency="USD")))

    assert caught.value.code == "idempotency_conflict"
    assert (imitation.charges, imitation.charged_cents) == (1, 16910)


def test_rate_limit_is_retriable_and_honours_retry_after(make_gateway, charge_request, imitation):
    gateway = make_gateway()
    imitation.fail_next(429, headers={"Retry-After": "7"})

    with pytest.raises(RetriableError) as caught:
        gateway.charge(charge_request())

    assert caught.value.code == "rate_limited"
    assert caught.value.retry_after == 7
    assert imitation.charges == 0
    gateway.charge(charge_request())  # the key was never used: the retry charges once
    assert (imitation.charges, imitation.duplicate_effects) == (1, 0)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retriable(make_gateway, charge_request, imitation, status):
    imitation.fail_next(status)

    with pytest.raises(RetriableError) as caught:
        make_gateway().charge(charge_request())

    assert f"HTTP {status}" in str(caught.value)
    assert imitation.charges == 0


def test_unreachable_stripe_is_retriable(charge_request):
    from fbs_payment_stripe.gateway import StripeGateway, StripeOptions

    options = StripeOptions(api_key=API_KEY, customer="cus_merchant",
                            payment_method="pm_card_visa",
                            api_base=f"http://127.0.0.1:{free_port()}")  # fmt: skip
    with pytest.raises(RetriableError) as caught:
        StripeGateway("stripe-main", options).charge(charge_request())

    assert caught.value.code == "upstream_unreachable"


def test_wrong_api_key_is_an_auth_error_that_never_shows_the_key(
    make_gateway, charge_request, imitation
):
    wrong = "sk_test_wrongkey987654321"
    with pytest.raises(AuthError) as caught:
        make_gateway(api_key=wrong).charge(charge_request())

    assert "api_key" in str(caught.value)
    assert wrong not in str(caught.value)
    assert wrong[-4:] not in str(caught.value)
    assert imitation.charges == 0


def test_refused_key_reported_as_401_is_an_auth_error(make_gateway, imitation):
    imitation.fail_next(401)

    with pytest.raises(AuthError):
        make_gateway().check()


def test_non_positive_amount_is_refused_without_calling_stripe(
    make_gateway, charge_request, stripe_server
):
    with pytest.raises(FatalError) as caught:
        make_gateway().charge(charge_request(amount=Money(cents=0, currency="USD")))

    assert caught.value.code == "invalid_amount"
    assert _posts(stripe_server, "/v1/") == []


# -- refunds ----------------------------------------------------------------------


def test_partial_then_full_refund_gives_back_exactly_the_charge(
    make_gateway, charge_request, refund_request, imitation
):
    gateway = make_gateway()
    charge = gateway.charge(charge_request())

    part = gateway.refund(refund_request(charge.reference, 4000, key="refund:7:1"))
    rest = gateway.refund(refund_request(charge.reference, 12910, key="refund:7:2"))

    assert part.reference.startswith("re_") and rest.reference != part.reference
    assert (part.amount.cents, rest.amount.cents) == (4000, 12910)
    assert (imitation.refunds, imitation.refunded_cents) == (2, 16910)
    first = imitation.refund_objects[0]
    assert first["payment_intent"] == charge.reference
    assert first["reason"] == "requested_by_customer"
    assert first["metadata"] == {
        "fbs_order_id": "7",
        "fbs_idempotency_key": "refund:7:1",
        "fbs_reason": "warehouse cancelled line 2",
    }
    with pytest.raises(FatalError) as caught:
        gateway.refund(refund_request(charge.reference, 1, key="refund:7:3"))
    assert caught.value.code == "charge_already_refunded"


def test_refund_of_more_than_remains_is_refused(
    make_gateway, charge_request, refund_request, imitation
):
    gateway = make_gateway()
    charge = gateway.charge(charge_request())

    with pytest.raises(FatalError) as caught:
        gateway.refund(refund_request(charge.reference, 16911))

    assert "greater than unrefunded amount" in str(caught.value)
    assert imitation.refunds == 0


def test_retried_refund_is_made_once(make_gateway, charge_request, refund_request, imitation):
    gateway = make_gateway()
    charge = gateway.charge(charge_request())
    request = refund_request(charge.reference, 5000)

    first = gateway.refund(request)
    imitation.fail_next(503)
    with pytest.raises(RetriableError):
        gateway.refund(request)
    again = gateway.refund(request)

    assert again == first
    assert (imitation.refunds, imitation.refunded_cents, imitation.duplicate_effects) == (
        1,
        5000,
        0,
    )


# -- check ------------------------------------------------------------------------


def test_check_retrieves_the_configured_customer(make_gateway, stripe_server):
    make_gateway().check()

    [get] = stripe_server.log.matching("GET", "/v1/customers/")
    assert get.path == "/v1/customers/cus_merchant"
    assert get.status == 200


def test_check_reports_an_unknown_customer(make_gateway):
    with pytest.raises(FatalError) as caught:
        make_gateway(customer="cus_nobody").check()

    assert caught.value.code == "resource_missing"
    assert "cus_nobody" in str(caught.value)


# -- finding a charge made earlier under an idempotency key ----------------------------


def test_find_charge_returns_the_payment_made_under_the_key(
    make_gateway, charge_request, imitation, stripe_server
):
    charged = make_gateway().charge(charge_request())
    imitation.forget_idempotency_keys()

    # a later process asks before re-sending
    found = make_gateway().find_charge(charge_request())

    assert found == charged
    assert found.amount == Money(cents=16910, currency="USD")
    [search] = stripe_server.log.matching("GET", "/v1/payment_intents/search")
    assert dict(parse_qsl(search.query)) == {
        "query": "metadata['fbs_idempotency_key']:'charge:order-7:1'",
        "limit": "100",
    }


def test_find_charge_ignores_other_keys_and_is_none_for_an_unknown_key(
    make_gateway, charge_request, imitation
):
    gateway = make_gateway()
    gateway.charge(charge_request(key="charge:order-7:10"))
    gateway.charge(charge_request(key="charge:order-7:1x"))

    assert gateway.find_charge(charge_request(key="charge:order-7:1")) is None
    assert imitation.charges == 2


def test_find_charge_is_none_when_the_earlier_attempt_was_declined(
    make_gateway, charge_request, imitation
):
    gateway = make_gateway(payment_method="pm_card_chargeDeclined")
    with pytest.raises(PaymentDeclined):
        gateway.charge(charge_request())

    assert gateway.find_charge(charge_request()) is None
    assert len(imitation.payment_intents) == 1


def test_find_charge_escapes_quotes_in_the_key(make_gateway, charge_request, stripe_server):
    key = "o'brien-charge-7-1"
    gateway = make_gateway()
    charged = gateway.charge(charge_request(key=key))

    assert gateway.find_charge(charge_request(key=key)) == charged
    [search] = stripe_server.log.matching("GET", "/v1/payment_intents/search")
    assert dict(parse_qsl(search.query))["query"] == (
        "metadata['fbs_idempotency_key']:'o\\'brien-charge-7-1'"
    )


def test_find_charge_refuses_a_key_it_cannot_search_for_safely(
    make_gateway, charge_request, stripe_server
):
    with pytest.raises(FatalError) as caught:
        make_gateway().find_charge(charge_request(key="merchant\\charge-7-1"))

    assert caught.value.code == "unsearchable_key"
    assert stripe_server.log.matching("GET", "/v1/payment_intents/search") == []


def test_find_charge_reports_two_payments_under_one_key(make_gateway, charge_request, imitation):
    gateway = make_gateway()
    first = gateway.charge(charge_request())
    # a day later Stripe forgot the key and the charge was re-sent without asking first
    imitation.forget_idempotency_keys()
    second = gateway.charge(charge_request())

    with pytest.raises(FatalError) as caught:
        gateway.find_charge(charge_request())

    assert caught.value.code == "duplicate_charge"
    assert first.reference in str(caught.value) and second.reference in str(caught.value)


def test_find_charge_with_a_refused_key_is_an_auth_error(make_gateway, charge_request, imitation):
    imitation.fail_next(401)

    with pytest.raises(AuthError):
        make_gateway().find_charge(charge_request())


def test_find_charge_when_stripe_fails_is_retriable(make_gateway, charge_request, imitation):
    imitation.fail_next(503)

    with pytest.raises(RetriableError) as caught:
        make_gateway().find_charge(charge_request())

    assert caught.value.code == "upstream_unavailable"


def test_find_charge_will_not_say_none_while_a_payment_may_still_take_money(
    make_gateway, charge_request, stripe_server
):
    # a PaymentIntent for the key that is authorised but not yet captured
    httpx.post(
        f"{stripe_server.url}/v1/payment_intents",
        headers={"Authorization": f"Bearer {API_KEY}"},
        data={"amount": "16910", "currency": "usd", "customer": "cus_merchant",
              "payment_method": "pm_card_visa", "confirm": "true", "capture_method": "manual",
              "metadata[fbs_idempotency_key]": "charge:order-7:1"},
    ).raise_for_status()  # fmt: skip

    with pytest.raises(FatalError) as caught:
        make_gateway().find_charge(charge_request())

    assert caught.value.code == "payment_incomplete"
    assert "requires_capture" in str(caught.value)


# -- finding a refund made earlier under an idempotency key ----------------------------


def _lost_refund(gateway, charge_request, refund_request, imitation, cents=5000):
    """Charge, refund ``cents`` with the answer lost, and let Stripe forget the key."""
    charge = gateway.charge(charge_request())
    request = refund_request(charge.reference, cents)
    imitation.fail_next(503, after_effect=True)
    with pytest.raises(RetriableError):
        gateway.refund(request)
    imitation.forget_idempotency_keys()
    return charge, request


def test_a_refund_re_sent_after_stripe_forgot_its_key_is_paid_twice(
    make_gateway, charge_request, refund_request, imitation
):
    # why find_refund exists: past 24 h the key no longer protects a retry
    gateway = make_gateway()
    _, request = _lost_refund(gateway, charge_request, refund_request, imitation)

    gateway.refund(request)

    assert (imitation.refunds, imitation.refunded_cents, imitation.duplicate_effects) == (
        2,
        10000,
        1,
    )


def test_find_refund_returns_the_refund_made_under_the_key(
    make_gateway, charge_request, refund_request, imitation, stripe_server
):
    charge, request = _lost_refund(make_gateway(), charge_request, refund_request, imitation)
    [made] = imitation.refund_objects

    # a later process asks before re-sending
    found = make_gateway().find_refund(request)

    assert found is not None
    assert (found.reference, found.amount) == (made["id"], Money(cents=5000, currency="USD"))
    [listed] = stripe_server.log.matching("GET", "/v1/refunds")
    assert dict(parse_qsl(listed.query)) == {"payment_intent": charge.reference, "limit": "100"}
    assert imitation.refunds == 1


def test_find_refund_ignores_other_keys_and_other_payments(
    make_gateway, charge_request, refund_request, imitation
):
    gateway = make_gateway()
    charge = gateway.charge(charge_request())
    other = gateway.charge(charge_request(key="charge:order-8:1"))
    gateway.refund(refund_request(charge.reference, 100, key="refund:order-7:10"))
    gateway.refund(refund_request(other.reference, 100, key="refund:order-7:1"))

    assert gateway.find_refund(refund_request(charge.reference, 100)) is None
    assert imitation.refunds == 2


def test_find_refund_reads_every_page_of_the_payments_refunds(
    make_gateway, charge_request, refund_request, imitation, stripe_server, monkeypatch
):
    from fbs_payment_stripe import gateway as gateway_module

    monkeypatch.setattr(gateway_module, "_LIST_PAGE_SIZE", 2)
    gateway = make_gateway()
    charge = gateway.charge(charge_request())
    wanted = gateway.refund(refund_request(charge.reference, 100))  # the oldest: last page
    for n in range(4):
        gateway.refund(refund_request(charge.reference, 100, key=f"refund:order-7:later-{n}"))

    found = gateway.find_refund(refund_request(charge.reference, 100))

    assert found == wanted
    pages = [dict(parse_qsl(get.query)) for get in stripe_server.log.matching("GET", "/v1/refunds")]
    assert len(pages) == 3
    assert "starting_after" not in pages[0]
    listed = [r["id"] for r in reversed(imitation.refund_objects)]  # newest first, as Stripe
    assert [p.get("starting_after") for p in pages[1:]] == [listed[1], listed[3]]


def test_find_refund_gives_up_on_a_payment_with_too_many_refunds_to_read(
    make_gateway, charge_request, refund_request, imitation, monkeypatch
):
    from fbs_payment_stripe import gateway as gateway_module

    monkeypatch.setattr(gateway_module, "_LIST_PAGE_SIZE", 1)
    monkeypatch.setattr(gateway_module, "_LIST_PAGES_LIMIT", 2)
    gateway = make_gateway()
    charge = gateway.charge(charge_request())
    for n in range(3):
        gateway.refund(refund_request(charge.reference, 100, key=f"refund:order-7:other-{n}"))

    with pytest.raises(FatalError) as caught:
        gateway.find_refund(refund_request(charge.reference, 100))

    assert caught.value.code == "too_many_refunds"
    assert charge.reference in str(caught.value)


def test_find_refund_reports_two_refunds_under_one_key(
    make_gateway, charge_request, refund_request, imitation
):
    gateway = make_gateway()
    _, request = _lost_refund(gateway, charge_request, refund_request, imitation)
    gateway.refund(request)  # re-sent without asking first

    with pytest.raises(FatalError) as caught:
        gateway.find_refund(request)

    assert caught.value.code == "duplicate_refund"
    for refund in imitation.refund_objects:
        assert refund["id"] in str(caught.value)


def test_find_refund_with_a_refused_key_is_an_auth_error(make_gateway, refund_request, imitation):
    imitation.fail_next(401)

    with pytest.raises(AuthError):
        make_gateway().find_refund(refund_request("pi_unknown", 100))


def test_find_refund_when_stripe_fails_is_retriable(make_gateway, refund_request, imitation):
    imitation.fail_next(503)

    with pytest.raises(RetriableError) as caught:
        make_gateway().find_refund(refund_request("pi_unknown", 100))

    assert caught.value.code == "upstream_unavailable"
