"""The Stripe imitation behaves as Stripe documents, over real HTTP on 127.0.0.1."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from fbs_sandbox.serving import serve
from fbs_sandbox.stripe_imitation import StripeImitation, parse_form

KEY = "sk_test_imitation0123456789"
CHARGE = {
    "amount": "2599",
    "currency": "usd",
    "customer": "cus_demo",
    "payment_method": "pm_card_visa",
    "off_session": "true",
    "confirm": "true",
    "metadata[fbs_idempotency_key]": "charge:1",
    "metadata[fbs_order_id]": "1",
}


@pytest.fixture
def imitation() -> StripeImitation:
    return StripeImitation(KEY, payment_methods={"pm_merchant_amex": "insufficient_funds"})


@pytest.fixture
def api(imitation):
    server = serve(imitation.app)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client
    server.stop()


def _charge(api, key: str | None = "idem-1", **changes: str) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return api.post("/v1/payment_intents", data={**CHARGE, **changes}, headers=headers)


def _error(response: httpx.Response) -> dict:
    return response.json()["error"]


def test_form_bodies_nest_brackets_and_number_lists():
    assert parse_form(b"a=1&metadata[k]=v&shipping[address][city]=Reno&types[0]=card") == {
        "a": "1",
        "metadata": {"k": "v"},
        "shipping": {"address": {"city": "Reno"}},
        "types": ["card"],
    }


# -- authentication ------------------------------------------------------------------


def test_request_without_a_key_is_refused(api):
    response = api.get("/v1/customers/cus_demo", headers={"Authorization": ""})

    assert response.status_code == 401
    assert _error(response)["type"] == "invalid_request_error"
    assert "did not provide an API key" in _error(response)["message"]


def test_wrong_key_is_refused_without_echoing_it(api, imitation):
    wrong = "sk_test_someoneelse0000000000"
    response = api.post("/v1/payment_intents", data=CHARGE,
                        headers={"Authorization": f"Bearer {wrong}"})  # fmt: skip

    assert response.status_code == 401
    assert wrong not in _error(response)["message"]
    assert imitation.charges == 0


def test_basic_auth_with_the_key_as_user_name_is_accepted(api):
    response = api.get("/v1/customers/cus_demo", auth=(KEY, ""))

    assert response.status_code == 200
    assert response.json()["id"] == "cus_demo"


# -- payment intents -------------------------------------------------------------------


def test_confirmed_off_session_payment_intent_succeeds(api, imitation):
    response = _charge(api)

    assert response.status_code == 200
    intent = response.json()
    assert intent["id"].startswith("pi_")
    assert (intent["status"], intent["amount_received"], intent["currency"]) == (
        "succeeded",
        2599,
        "usd",
    )
    assert intent["metadata"] == {"fbs_idempotency_key": "charge:1", "fbs_order_id": "1"}
    assert response.headers["request-id"].startswith("req_")
    assert (imitation.charges, imitation.charged_cents) == (1, 2599)
    assert api.get(f"/v1/payment_intents/{intent['id']}").json() == intent


@pytest.mark.parametrize(
    ("payment_method", "code", "decline_code"),
    [
        ("pm_card_chargeDeclined", "card_declined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
        ("pm_card_authenticationRequired", "authentication_required", "authentication_required"),
        ("pm_merchant_amex", "card_declined", "insufficient_funds"),
    ],
)
def test_failing_test_cards_answer_402_card_error(api, imitation, payment_method, code,
                                                  decline_code):  # fmt: skip
    response = _charge(api, payment_method=payment_method)

    assert response.status_code == 402
    error = _error(response)
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        code,
        decline_code,
    )
    assert error["payment_intent"]["status"] == "requires_payment_method"
    assert error["payment_intent"]["last_payment_error"]["code"] == code
    assert imitation.charges == 0
    assert len(imitation.payment_intents) == 1


def test_authentication_required_on_session_asks_for_action(api):
    response = _charge(api, payment_method="pm_card_authenticationRequired", off_session="false")

    assert response.status_code == 200
    assert response.json()["status"] == "requires_action"


@pytest.mark.parametrize(
    ("changes", "param", "code"),
    [
        ({"currency": ""}, "currency", "parameter_missing"),
        ({"amount": "lots"}, "amount", "parameter_invalid_integer"),
        ({"amount": "49"}, "amount", "amount_too_small"),
        ({"capture_method": "sometimes"}, "capture_method", None),
        ({"surprise": "1"}, "surprise", "parameter_unknown"),
        ({"customer": "cus_other"}, "customer", "resource_missing"),
        ({"payment_method": "pm_nope"}, "payment_method", "resource_missing"),
        ({"metadata[" + "k" * 41 + "]": "v"}, "metadata[" + "k" * 41 + "]", None),
    ],
)
def test_invalid_parameters_get_400_naming_the_parameter(api, imitation, changes, param, code):
    response = _charge(api, key=None, **changes)

    assert response.status_code == 400
    assert _error(response)["param"] == param
    assert _error(response).get("code") == code
    assert imitation.payment_intents == []


def test_json_bodies_are_refused(api):
    response = api.post("/v1/payment_intents", json={"amount": 100, "currency": "usd"})

    assert response.status_code == 400
    assert "x-www-form-urlencoded" in _error(response)["message"]


def test_list_pages_newest_first(api):
    ids = [_charge(api, key=f"k{i}").json()["id"] for i in range(3)]

    first = api.get("/v1/payment_intents", params={"limit": 2}).json()
    rest = api.get("/v1/payment_intents", params={"limit": 2, "starting_after": ids[1]}).json()

    assert [i["id"] for i in first["data"]] == [ids[2], ids[1]]
    assert first["has_more"] is True
    assert ([i["id"] for i in rest["data"]], rest["has_more"]) == ([ids[0]], False)


def test_unknown_objects_and_urls_are_404(api):
    assert _error(api.get("/v1/payment_intents/pi_nope"))["code"] == "resource_missing"
    assert api.get("/v1/customers/cus_nope").status_code == 404
    response = api.get("/v1/charges")
    assert response.status_code == 404
    assert "Unrecognized request URL" in _error(response)["message"]


# -- idempotency -----------------------------------------------------------------------


def test_same_key_and_parameters_replay_the_first_response(api, imitation):
    first = _charge(api)
    again = _charge(api)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["original-request"] == first.headers["request-id"]
    assert "idempotent-replayed" not in first.headers
    assert (imitation.charges, imitation.replays, imitation.duplicate_effects) == (1, 1, 0)


def test_errors_from_an_executed_request_are_replayed_too(api, imitation):
    first = _charge(api, payment_method="pm_card_chargeDeclined")
    again = _charge(api, payment_method="pm_card_chargeDeclined")

    assert (first.status_code, again.status_code) == (402, 402)
    assert again.json() == first.json()
    assert len(imitation.payment_intents) == 1


def test_same_key_with_other_parameters_is_an_idempotency_error(api, imitation):
    _charge(api)
    response = _charge(api, amount="2600")
    other_endpoint = api.post("/v1/refunds", data={"payment_intent": "pi_x"},
                              headers={"Idempotency-Key": "idem-1"})  # fmt: skip

    assert response.status_code == 400
    assert _error(response)["type"] == "idempotency_error"
    assert "idem-1" in _error(response)["message"]
    assert _error(other_endpoint)["type"] == "idempotency_error"
    assert imitation.charges == 1


def test_requests_failing_validation_save_nothing_for_their_key(api, imitation):
    assert _charge(api, currency="").status_code == 400

    assert _charge(api).status_code == 200
    assert imitation.replays == 0


def test_concurrent_retries_with_one_key_charge_once(api, imitation):
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: _charge(api), range(8)))

    assert {r.json()["id"] for r in responses} == {imitation.payment_intents[0]["id"]}
    assert (imitation.charges, imitation.replays, imitation.duplicate_effects) == (1, 7, 0)


def test_duplicate_effects_counts_two_charges_for_one_fbs_key(api, imitation):
    _charge(api, key="first-attempt")
    _charge(api, key="careless-new-key")

    assert imitation.charges == 2
    assert imitation.duplicate_effects == 1


# -- refunds ---------------------------------------------------------------------------


def _refund(api, intent_id: str, key: str, **data: str) -> httpx.Response:
    return api.post("/v1/refunds", data={"payment_intent": intent_id, **data},
                    headers={"Idempotency-Key": key})  # fmt: skip


def test_refunds_stop_at_what_was_charged(api, imitation):
    intent_id = _charge(api).json()["id"]

    part = _refund(api, intent_id, "r1", amount="1000", reason="requested_by_customer",
                   **{"metadata[fbs_idempotency_key]": "refund:1"})  # fmt: skip
    too_much = _refund(api, intent_id, "r2", amount="1600")
    rest = _refund(api, intent_id, "r3")
    none_left = _refund(api, intent_id, "r4", amount="1")

    assert part.status_code == 200
    assert (part.json()["amount"], part.json()["status"]) == (1000, "succeeded")
    assert part.json()["metadata"] == {"fbs_idempotency_key": "refund:1"}
    assert too_much.status_code == 400
    assert _error(too_much)["param"] == "amount"
    assert "($15.99)" in _error(too_much)["message"]
    assert rest.json()["amount"] == 1599
    assert _error(none_left)["code"] == "charge_already_refunded"
    assert (imitation.refunds, imitation.refunded_cents) == (2, 2599)
    assert (
        api.get("/v1/refunds", params={"payment_intent": intent_id}).json()["data"][0]["id"]
        == rest.json()["id"]
    )


def test_a_declined_payment_cannot_be_refunded(api, imitation):
    declined = _charge(api, payment_method="pm_card_chargeDeclined")
    intent_id = _error(declined)["payment_intent"]["id"]

    response = _refund(api, intent_id, "r1")

    assert _error(response)["code"] == "charge_not_refundable"
    assert imitation.refunds == 0


def test_refund_retried_with_its_key_is_made_once(api, imitation):
    intent_id = _charge(api).json()["id"]
    first = _refund(api, intent_id, "r1", amount="500")
    again = _refund(api, intent_id, "r1", amount="500")

    assert again.json() == first.json()
    assert (imitation.refunds, imitation.refunded_cents, imitation.replays) == (1, 500, 1)


def test_refunds_list_by_payment_newest_first_in_pages(api):
    intent_id = _charge(api).json()["id"]
    other_id = _charge(api, key="idem-2").json()["id"]
    ids = [_refund(api, intent_id, f"r{i}", amount="100").json()["id"] for i in range(3)]
    _refund(api, other_id, "r-other", amount="100")

    first = api.get("/v1/refunds", params={"payment_intent": intent_id, "limit": 2}).json()
    rest = api.get("/v1/refunds", params={"payment_intent": intent_id, "limit": 2,
                                          "starting_after": ids[1]}).json()  # fmt: skip
    back = api.get("/v1/refunds", params={"payment_intent": intent_id, "limit": 1,
                                          "ending_before": ids[0]}).json()  # fmt: skip

    assert (first["object"], first["url"]) == ("list", "/v1/refunds")
    assert ([r["id"] for r in first["data"]], first["has_more"]) == ([ids[2], ids[1]], True)
    assert ([r["id"] for r in rest["data"]], rest["has_more"]) == ([ids[0]], False)
    assert ([r["id"] for r in back["data"]], back["has_more"]) == ([ids[1]], True)
    charge_id = first["data"][0]["charge"]
    by_charge = api.get("/v1/refunds", params={"charge": charge_id, "limit": 10}).json()
    assert [r["id"] for r in by_charge["data"]] == ids[::-1]


def test_refunds_list_refuses_what_stripe_documents_it_refuses(api):
    intent_id = _charge(api).json()["id"]
    _refund(api, intent_id, "r1", amount="100")

    unknown = api.get("/v1/refunds", params={"order": "1"})
    both = api.get("/v1/refunds", params={"starting_after": "re_a", "ending_before": "re_b"})
    missing = api.get("/v1/refunds", params={"starting_after": "re_nope"})
    too_many = api.get("/v1/refunds", params={"limit": 101})

    assert (unknown.status_code, _error(unknown)["code"]) == (400, "parameter_unknown")
    assert both.status_code == 400 and "mutually exclusive" in _error(both)["message"]
    assert (_error(missing)["code"], _error(missing)["param"]) == (
        "resource_missing",
        "starting_after",
    )
    assert _error(too_many)["param"] == "limit"


def test_refunds_list_filters_by_creation_time(api):
    intent_id = _charge(api).json()["id"]
    refund = _refund(api, intent_id, "r1", amount="100").json()

    since = api.get("/v1/refunds", params={"created[gte]": refund["created"]}).json()
    before = api.get("/v1/refunds", params={"created[lt]": refund["created"]}).json()

    assert [r["id"] for r in since["data"]] == [refund["id"]]
    assert before["data"] == []


# -- fault injection -------------------------------------------------------------------


def test_fail_next_refuses_requests_before_they_run(api, imitation):
    imitation.fail_next(429, times=2, headers={"Retry-After": "3"})

    responses = [_charge(api), _charge(api)]

    assert [r.status_code for r in responses] == [429, 429]
    assert responses[0].headers["retry-after"] == "3"
    assert _error(responses[0])["code"] == "rate_limit"
    assert imitation.payment_intents == []
    assert _charge(api).status_code == 200
    assert imitation.replays == 0


def test_fail_next_after_effect_runs_the_request_and_loses_the_answer(api, imitation):
    imitation.fail_next(500, after_effect=True)

    lost = _charge(api)
    retried = _charge(api)

    assert lost.status_code == 500
    assert _error(lost)["type"] == "api_error"
    assert retried.status_code == 200
    assert retried.headers["idempotent-replayed"] == "true"
    assert imitation.charges == 1


def test_unknown_payment_method_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome"):
        StripeImitation(KEY, payment_methods={"pm_x": "maybe"})


# -- search ----------------------------------------------------------------------------


def _search(api, query: str, **params: str) -> httpx.Response:
    return api.get("/v1/payment_intents/search", params={"query": query, **params})


def test_search_finds_payment_intents_by_exact_metadata_value(api):
    wanted = _charge(api, key="a", **{"metadata[fbs_idempotency_key]": "m-charge-7-1"}).json()
    _charge(api, key="b", **{"metadata[fbs_idempotency_key]": "m-charge-7-10"})

    response = _search(api, "metadata['fbs_idempotency_key']:'m-charge-7-1'")

    assert response.status_code == 200
    assert response.json() == {
        "object": "search_result",
        "data": [wanted],
        "has_more": False,
        "next_page": None,
        "url": "/v1/payment_intents/search",
    }


def test_search_reads_double_quotes_and_backslash_escaped_quotes(api):
    wanted = _charge(api, **{"metadata[fbs_idempotency_key]": 'o\'brien "x"'}).json()

    single = _search(api, "metadata['fbs_idempotency_key']:'o\\'brien \"x\"'").json()
    double = _search(api, 'metadata["fbs_idempotency_key"]:"o\'brien \\"x\\""').json()

    assert [i["id"] for i in single["data"]] == [wanted["id"]]
    assert [i["id"] for i in double["data"]] == [wanted["id"]]


def test_search_returns_declined_payment_intents_too(api):
    _charge(api, payment_method="pm_card_chargeDeclined")

    [found] = _search(api, "metadata['fbs_idempotency_key']:'charge:1'").json()["data"]

    assert found["status"] == "requires_payment_method"


def test_search_pages_newest_first(api):
    ids = [_charge(api, key=f"k{i}").json()["id"] for i in range(3)]
    query = "metadata['fbs_idempotency_key']:'charge:1'"

    first = _search(api, query, limit="2").json()
    rest = _search(api, query, limit="2", page=first["next_page"]).json()

    assert ([i["id"] for i in first["data"]], first["has_more"]) == ([ids[2], ids[1]], True)
    assert ([i["id"] for i in rest["data"]], rest["has_more"], rest["next_page"]) == (
        [ids[0]], False, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    "query",
    [
        "status:'succeeded'",
        "metadata['k']:'v' AND status:'succeeded'",
        "metadata['k']~'v'",
        "metadata[k]:'v'",
        "metadata['k']:'unterminated",
        "",
    ],
)
def test_search_refuses_other_queries_with_a_400(api, query):
    response = _search(api, query)

    assert response.status_code == 400
    assert _error(response)["type"] == "invalid_request_error"
    assert _error(response)["param"] == "query"


def test_search_needs_the_api_key(api):
    response = api.get(
        "/v1/payment_intents/search",
        params={"query": "metadata['k']:'v'"},
        headers={"Authorization": "Bearer sk_test_wrong000000000000"},
    )

    assert response.status_code == 401
    assert _error(response)["type"] == "invalid_request_error"


def test_forgotten_idempotency_keys_charge_again(api, imitation):
    _charge(api)
    imitation.forget_idempotency_keys()
    _charge(api)

    assert (imitation.charges, imitation.replays, imitation.duplicate_effects) == (2, 0, 1)
