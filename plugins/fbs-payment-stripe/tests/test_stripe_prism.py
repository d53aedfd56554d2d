"""Every request the gateway sends is valid against Stripe's official OpenAPI spec.

Prism serves the spec (``stripe/spec3.prism-mock.json``, see its PROVENANCE.md) and
answers 422 with an ``sl-violations`` header for a request the spec forbids. Prism is
stateless and fills responses with schema placeholders (a PaymentIntent ``status`` of
``canceled``, a Refund ``status`` of ``"string"``), so these tests assert what was sent
and accepted. Its static mode is used on purpose: the placeholders are deterministic,
and they show the gateway turns a response it cannot count as money into a clear
error. What the gateway does with real Stripe answers is tested against the imitation.

Prism does not flag unknown top-level parameters, so each sent parameter is also
checked against the operation's request schema here.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import httpx
import pytest
import stripe

from fbs_core.errors import FatalError
from fbs_payment_stripe.errors import from_stripe
from fbs_payment_stripe.gateway import StripeGateway, StripeOptions

API_KEY = "sk_test_fbs0123456789abcdef"


def _gateway(prism, recorder, **overrides) -> StripeGateway:
    options = StripeOptions(
        **{
            "api_key": API_KEY,
            "customer": "cus_merchant",
            "payment_method": "pm_card_visa",
            "api_base": prism.url,
            **overrides,
        }
    )
    return StripeGateway("stripe-main", options, http_client=recorder)


def _form_schema(prism, path: str) -> dict:
    body = prism.spec["paths"][path]["post"]["requestBody"]
    return body["content"]["application/x-www-form-urlencoded"]["schema"]


def _assert_accepted(exchange) -> None:
    assert "sl-violations" not in exchange.response_headers, exchange.response_headers.get(
        "sl-violations"
    )
    assert exchange.status == 200


def _assert_known_top_level_params(prism, path: str, body: str) -> dict[str, str]:
    sent = dict(parse_qsl(body))
    allowed = set(_form_schema(prism, path)["properties"])
    top_level = {name.split("[", 1)[0] for name in sent}
    assert top_level <= allowed, f"not in the spec for POST {path}: {top_level - allowed}"
    assert set(_form_schema(prism, path).get("required", [])) <= top_level
    return sent


@pytest.mark.parametrize("descriptor", [None, "ORDER 1007"])
def test_charge_request_is_valid_for_payment_intent_create(
    prism, recorder, charge_request, descriptor
):
    gateway = _gateway(prism, recorder, statement_descriptor_suffix=descriptor)

    with pytest.raises(FatalError) as caught:
        gateway.charge(charge_request())

    [exchange] = recorder.exchanges
    assert (exchange.method, exchange.url) == ("POST", f"{prism.url}/v1/payment_intents")
    _assert_accepted(exchange)
    assert exchange.request_headers["idempotency-key"] == "charge:order-7:1"
    sent = _assert_known_top_level_params(prism, "/v1/payment_intents", exchange.body)
    assert sent["amount"] == "16910"
    assert sent["currency"] == "usd"
    assert sent["metadata[fbs_idempotency_key]"] == "charge:order-7:1"
    assert sent.get("statement_descriptor_suffix") == descriptor
    # Prism's placeholder PaymentIntent is `canceled`: not money, and said so plainly
    assert caught.value.code == "payment_incomplete"
    assert "'canceled'" in str(caught.value)


@pytest.mark.parametrize("cents", [500, 16910])
def test_refund_request_is_valid_for_refund_create(prism, recorder, refund_request, cents):
    gateway = _gateway(prism, recorder)

    with pytest.raises(FatalError) as caught:
        gateway.refund(refund_request("pi_3Nfake000000000000000000", cents))

    [exchange] = recorder.exchanges
    assert (exchange.method, exchange.url) == ("POST", f"{prism.url}/v1/refunds")
    _assert_accepted(exchange)
    assert exchange.request_headers["idempotency-key"] == "refund:order-7:1"
    sent = _assert_known_top_level_params(prism, "/v1/refunds", exchange.body)
    assert sent["payment_intent"] == "pi_3Nfake000000000000000000"
    assert sent["amount"] == str(cents)
    assert sent["reason"] == "requested_by_customer"
    # Prism's placeholder Refund status is "string": not a refund fbs can count
    assert caught.value.code == "refund_failed"


def test_check_request_is_valid_for_customer_retrieve(prism, recorder):
    _gateway(prism, recorder).check()

    [exchange] = recorder.exchanges
    assert (exchange.method, exchange.url) == ("GET", f"{prism.url}/v1/customers/cus_merchant")
    _assert_accepted(exchange)
    assert exchange.request_headers["authorization"] == f"Bearer {API_KEY}"


def test_prism_rejects_a_request_the_spec_forbids(prism):
    response = httpx.post(
        f"{prism.url}/v1/payment_intents",
        data={"amount": "16910", "currency": "usd", "capture_method": "sometimes"},
        headers={"Authorization": f"Bearer {API_KEY}"},
        timeout=30,
    )

    assert response.status_code == 422
    assert "capture_method" in response.headers["sl-violations"]


def test_a_request_prism_rejects_reaches_the_merchant_as_a_fatal_error(prism, recorder):
    client = stripe.StripeClient(API_KEY, base_addresses={"api": prism.url},
                                 max_network_retries=0, http_client=recorder)  # fmt: skip

    with pytest.raises(stripe.APIError) as caught:
        client.v1.payment_intents.create(params={"amount": 100})  # no currency

    assert caught.value.http_status == 422
    assert "currency" in recorder.exchanges[0].response_headers["sl-violations"]
    error = from_stripe(caught.value, "charging order #1007")
    assert type(error) is FatalError and "HTTP 422" in str(error)


def test_find_charge_requests_are_valid_for_payment_intent_search(prism, recorder, charge_request):
    # Prism's placeholder result always says has_more with next_page "string", so the
    # gateway follows pages until its limit and then refuses to guess
    with pytest.raises(FatalError) as caught:
        _gateway(prism, recorder).find_charge(charge_request())

    assert caught.value.code == "too_many_matches"
    allowed = {p["name"] for p in prism.spec["paths"]["/v1/payment_intents/search"]["get"]
               ["parameters"]}  # fmt: skip
    query = {"query": "metadata['fbs_idempotency_key']:'charge:order-7:1'", "limit": "100"}
    first, *later = recorder.exchanges
    assert len(later) == 9
    for exchange in recorder.exchanges:
        path, _, sent = exchange.url.partition("?")
        assert (exchange.method, path) == ("GET", f"{prism.url}/v1/payment_intents/search")
        _assert_accepted(exchange)
        assert set(dict(parse_qsl(sent))) <= allowed
    assert dict(parse_qsl(first.url.partition("?")[2])) == query
    assert dict(parse_qsl(later[0].url.partition("?")[2])) == {**query, "page": "string"}


def test_prism_rejects_a_search_without_its_query(prism):
    response = httpx.get(f"{prism.url}/v1/payment_intents/search",
                         headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30)  # fmt: skip

    assert response.status_code == 422
    assert "query" in response.headers["sl-violations"]


def test_find_refund_requests_are_valid_for_refund_list(prism, recorder, refund_request):
    # Prism's placeholder list always says has_more, with refunds whose id is "string"
    # and whose metadata is empty, so the gateway follows pages until its limit and then
    # refuses to guess
    with pytest.raises(FatalError) as caught:
        _gateway(prism, recorder).find_refund(refund_request("pi_3Nfake000000000000000000", 500))

    assert caught.value.code == "too_many_refunds"
    allowed = {p["name"] for p in prism.spec["paths"]["/v1/refunds"]["get"]["parameters"]}
    query = {"payment_intent": "pi_3Nfake000000000000000000", "limit": "100"}
    first, *later = recorder.exchanges
    assert len(later) == 9
    for exchange in recorder.exchanges:
        path, _, sent = exchange.url.partition("?")
        assert (exchange.method, path) == ("GET", f"{prism.url}/v1/refunds")
        _assert_accepted(exchange)
        assert set(dict(parse_qsl(sent))) <= allowed
    assert dict(parse_qsl(first.url.partition("?")[2])) == query
    assert dict(parse_qsl(later[0].url.partition("?")[2])) == {**query, "starting_after": "string"}


def test_prism_rejects_a_refund_list_with_a_bad_limit(prism):
    response = httpx.get(f"{prism.url}/v1/refunds", params={"limit": "many"},
                         headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30)  # fmt: skip

    assert response.status_code == 422
    assert "limit" in response.headers["sl-violations"]
