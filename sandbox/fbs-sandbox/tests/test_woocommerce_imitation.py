"""The WooCommerce imitation follows the REST v3 docs for what fbs uses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from woocommerce import API

from fbs_sandbox.docs import woocommerce_orders_example
from fbs_sandbox.serving import RunningServer, serve
from fbs_sandbox.woocommerce import WooCommerceImitation, oauth_signature

KEY, SECRET = "ck_imitation_key", "cs_imitation_secret"
ADDRESS = {
    "first_name": "Dana",
    "address_1": "1 Elm",
    "city": "Austin",
    "state": "TX",
    "postcode": "78701",
    "country": "US",
}
T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def store():
    return WooCommerceImitation(KEY, SECRET)


@pytest.fixture
def server(store):
    running = serve(store.app)
    yield running
    running.stop()


@pytest.fixture
def http(server):
    with httpx.Client(base_url=f"{server.url}/wp-json/wc/v3", auth=(KEY, SECRET)) as client:
        yield client


def add(store, **kwargs):
    kwargs.setdefault("lines", [{"sku": "BRK-1", "quantity": 2, "price": "10.50"}])
    kwargs.setdefault("shipping", ADDRESS)
    return store.add_order(**kwargs)


def assert_wp_error(response, status, code):
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert body["data"]["status"] == status


# -- shape -------------------------------------------------------------------------


def test_orders_have_every_field_of_the_woocommerce_orders_example(store):
    example = woocommerce_orders_example("Retrieve an order")
    order = add(store)

    assert set(example) <= set(order)
    assert set(example["billing"]) <= set(order["billing"])
    assert set(example["shipping"]) <= set(order["shipping"])
    assert set(example["line_items"][0]) <= set(order["line_items"][0])
    assert {type(order[k]) for k in ("total", "shipping_total", "total_tax")} == {str}


def test_totals_and_dates(store):
    order = add(store, shipping_total="7.00", total_tax="1.25", date_modified=T0)

    assert order["line_items"][0]["total"] == "21.00"
    assert order["total"] == "29.25"
    assert order["date_modified_gmt"] == "2025-03-01T12:00:00"
    assert order["date_modified"] == "2025-03-01T07:00:00"  # the store's local time, UTC-5
    assert order["number"] == str(order["id"])


# -- listing ---------------------------------------------------------------------------


def test_pagination_headers_and_pages(store, http):
    ids = [add(store, date_modified=T0 + timedelta(seconds=i))["id"] for i in range(5)]

    pages = [
        http.get("/orders", params={"per_page": 2, "page": p, "order": "asc"}) for p in (1, 2, 3, 4)
    ]

    assert [r.headers["X-WP-Total"] for r in pages] == ["5"] * 4
    assert [r.headers["X-WP-TotalPages"] for r in pages] == ["3"] * 4
    assert [[o["id"] for o in r.json()] for r in pages] == [ids[0:2], ids[2:4], ids[4:], []]


def test_default_order_is_newest_first(store, http):
    ids = [add(store, date_modified=T0 + timedelta(seconds=i))["id"] for i in range(3)]

    assert [o["id"] for o in http.get("/orders").json()] == ids[::-1]


def test_per_page_over_100_is_rest_invalid_param(http):
    response = http.get("/orders", params={"per_page": 101})

    assert_wp_error(response, 400, "rest_invalid_param")
    assert "per_page" in response.json()["data"]["params"]


def test_unknown_status_and_orderby_are_rejected(http):
    assert_wp_error(http.get("/orders", params={"status": "paid"}), 400, "rest_invalid_param")
    assert_wp_error(http.get("/orders", params={"orderby": "modified"}), 400, "rest_invalid_param")


def test_status_filter_takes_a_comma_list(store, http):
    keep = {add(store, status="processing")["id"], add(store, status="cancelled")["id"]}
    add(store, status="completed")

    got = http.get("/orders", params={"status": "processing,cancelled"}).json()

    assert {o["id"] for o in got} == keep


def test_modified_after_is_exclusive_and_respects_dates_are_gmt(store, http):
    at_t0 = add(store, date_modified=T0)["id"]
    later = add(store, date_modified=T0 + timedelta(seconds=1))["id"]

    gmt = http.get(
        "/orders", params={"modified_after": "2025-03-01T12:00:00", "dates_are_gmt": "true"}
    ).json()
    local = http.get("/orders", params={"modified_after": "2025-03-01T07:00:00"}).json()
    with_zone = http.get(
        "/orders", params={"modified_after": "2025-03-01T11:59:59+00:00", "dates_are_gmt": "true"}
    ).json()

    assert [o["id"] for o in gmt] == [later]
    assert [o["id"] for o in local] == [later]
    assert {o["id"] for o in with_zone} == {at_t0, later}


# -- authentication ------------------------------------------------------------------


def test_the_woocommerce_package_authenticates_with_oauth_on_http(store, server):
    add(store)
    api = API(url=server.url, consumer_key=KEY, consumer_secret=SECRET)

    response = api.get("orders", params={"status": "processing", "per_page": 5})

    assert response.status_code == 200
    query = response.request.url.partition("?")[2]
    assert "oauth_signature=" in query
    assert query.count("per_page=5") == 2  # the package sends caller params twice


@pytest.mark.parametrize(
    ("key", "secret", "message"),
    [
        (KEY, "cs_wrong", "Invalid signature - provided signature does not match."),
        ("ck_unknown", SECRET, "Consumer key is invalid."),
    ],
)
def test_bad_oauth_credentials_are_401(server, key, secret, message):
    response = API(url=server.url, consumer_key=key, consumer_secret=secret).get("orders")

    assert_wp_error(response, 401, "woocommerce_rest_authentication_error")
    assert response.json()["message"] == message


def signed_query(server, path, *, nonce, timestamp):
    params = {
        "oauth_consumer_key": KEY,
        "oauth_nonce": nonce,
        "oauth_signature_method": "HMAC-SHA1",
        "oauth_timestamp": str(timestamp),
    }
    params["oauth_signature"] = oauth_signature(
        "GET", f"{server.url}{path}", params, SECRET, "HMAC-SHA1"
    )
    return params


def test_a_nonce_is_single_use_and_timestamps_expire(server):
    path = "/wp-json/wc/v3/orders"
    params = signed_query(server, path, nonce="n-1", timestamp=int(time.time()))
    stale = signed_query(server, path, nonce="n-2", timestamp=int(time.time()) - 3600)

    assert httpx.get(f"{server.url}{path}", params=params).status_code == 200
    replay = httpx.get(f"{server.url}{path}", params=params)
    assert replay.json()["message"] == "Invalid nonce - nonce has already been used."
    assert httpx.get(f"{server.url}{path}", params=stale).json()["message"] == (
        "Invalid timestamp."
    )


def test_basic_auth_and_no_auth(server):
    url = f"{server.url}/wp-json/wc/v3/orders"
    assert httpx.get(url, auth=(KEY, SECRET)).status_code == 200
    assert_wp_error(
        httpx.get(url, auth=(KEY, "nope")), 401, "woocommerce_rest_authentication_error"
    )
    assert_wp_error(httpx.get(url), 401, "woocommerce_rest_cannot_view")


# -- updates, notes, tracking ------------------------------------------------------------


def test_put_status_updates_modified_adds_a_note_and_counts_completion(store, http):
    order = add(store, date_modified=T0)

    updated = http.put(f"/orders/{order['id']}", json={"status": "completed"}).json()

    assert updated["status"] == "completed"
    assert updated["date_modified_gmt"] > order["date_modified_gmt"]
    assert updated["date_completed_gmt"] is not None
    assert store.completed_orders == [order["id"]]
    assert store.notes[order["id"]][-1]["note"] == (
        "Order status changed from Processing to Completed."
    )
    assert_wp_error(
        http.put(f"/orders/{order['id']}", json={"status": "shipped"}), 400, "rest_invalid_param"
    )
    assert_wp_error(http.get("/orders/999999"), 404, "woocommerce_rest_shop_order_invalid_id")


def test_meta_data_without_id_replaces_the_key(store, http):
    order = add(store)
    http.put(f"/orders/{order['id']}", json={"meta_data": [{"key": "_k", "value": [1]}]})
    http.put(f"/orders/{order['id']}", json={"meta_data": [{"key": "_k", "value": [1, 2]}]})

    metas = [m for m in store.orders[order["id"]]["meta_data"] if m["key"] == "_k"]

    assert [m["value"] for m in metas] == [[1, 2]]


def test_notes_filter_by_type_and_identical_notes_count_as_duplicates(store, http):
    order = add(store)
    path = f"/orders/{order['id']}/notes"
    created = http.post(path, json={"note": "Shipped", "customer_note": True})
    http.post(path, json={"note": "internal", "customer_note": False})

    assert created.status_code == 201
    assert [n["note"] for n in http.get(path, params={"type": "customer"}).json()] == ["Shipped"]
    assert [n["note"] for n in http.get(path, params={"type": "internal"}).json()] == ["internal"]
    assert store.duplicate_effects == 0
    http.post(path, json={"note": "Shipped", "customer_note": True})
    assert store.duplicate_effects == 1
    assert_wp_error(http.post(path, json={}), 400, "rest_missing_callback_param")


ST = "/wp-json/wc-shipment-tracking/v3"


def test_shipment_tracking_endpoints(store, server):
    order = add(store)
    url = f"{server.url}{ST}/orders/{order['id']}/shipment-trackings"

    created = httpx.post(
        url,
        auth=(KEY, SECRET),
        json={"tracking_provider": "USPS", "tracking_number": "9400", "date_shipped": "2025-03-02"},
    )
    listed = httpx.get(url, auth=(KEY, SECRET)).json()
    item_url = created.headers["Location"]
    fetched = httpx.get(item_url, auth=(KEY, SECRET))

    assert created.status_code == 201
    assert created.json() == {
        "tracking_id": created.json()["tracking_id"],
        "tracking_provider": "USPS",  # the display name, as the docs' response shows
        "tracking_link": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=9400",
        "tracking_number": "9400",
        "date_shipped": "2025-03-02",
    }
    assert item_url == f"{url}/{created.json()['tracking_id']}"
    assert fetched.json() == created.json()
    assert listed == [created.json()]
    assert store.tracking_pushes == [(order["id"], "9400")]
    httpx.post(
        url, auth=(KEY, SECRET), json={"tracking_provider": "USPS", "tracking_number": "9400"}
    )
    assert store.duplicate_effects == 1


def test_a_custom_provider_item_shows_its_name_and_expanded_link(store, server):
    order = add(store)
    url = f"{server.url}{ST}/orders/{order['id']}/shipment-trackings"

    created = httpx.post(
        url,
        auth=(KEY, SECRET),
        json={
            "custom_tracking_provider": "Example Courier",
            "custom_tracking_link": "https://example.com/track/%1$s",
            "tracking_number": "12345678",
            "date_shipped": "2026-07-10",
        },
    )

    assert created.status_code == 201
    assert (created.json()["tracking_provider"], created.json()["tracking_link"]) == (
        "Example Courier",
        "https://example.com/track/12345678",
    )
    bad_date = httpx.post(
        url, auth=(KEY, SECRET), json={"tracking_number": "1", "date_shipped": "10/07/2026"}
    )
    assert_wp_error(bad_date, 400, "rest_invalid_param")


def test_providers_are_listed_under_an_order_and_nowhere_else(store, server):
    order = add(store)

    scoped = httpx.get(f"{server.url}{ST}/orders/{order['id']}/shipment-trackings/providers")
    unscoped = httpx.get(f"{server.url}{ST}/shipment-trackings/providers", auth=(KEY, SECRET))

    assert scoped.status_code == 200
    assert scoped.json()["United States"]["USPS"].endswith("%1$s")
    assert_wp_error(unscoped, 404, "rest_no_route")


def test_a_fault_after_the_effect_keeps_the_effect_and_answers_the_error(store, server):
    order = add(store)
    url = f"{server.url}{ST}/orders/{order['id']}/shipment-trackings"
    store.fail_after_next(
        500, method="POST", path_suffix="/shipment-trackings", body=b"<html>Fatal error</html>"
    )

    listed_first = httpx.get(url, auth=(KEY, SECRET))  # a GET does not meet the fault
    failed = httpx.post(
        url, auth=(KEY, SECRET), json={"tracking_provider": "UPS", "tracking_number": "1Z1"}
    )

    assert listed_first.json() == []
    assert (failed.status_code, failed.text) == (500, "<html>Fatal error</html>")
    assert [i["tracking_number"] for i in store.trackings[order["id"]]] == ["1Z1"]


def test_without_the_extension_its_routes_are_rest_no_route():
    bare = WooCommerceImitation(KEY, SECRET, shipment_tracking=False)
    order = add(bare)
    with RunningServer(bare.app) as running:
        response = httpx.get(
            f"{running.url}/wp-json/wc-shipment-tracking/v3/orders/{order['id']}"
            "/shipment-trackings",
            auth=(KEY, SECRET),
        )
    assert_wp_error(response, 404, "rest_no_route")


# -- faults and webhooks -----------------------------------------------------------------


def test_fault_injection(store, http):
    store.fail_next(429, headers={"Retry-After": "12"})
    store.malformed_next()
    store.fail_next(500, times=2)

    limited = http.get("/orders")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "12")
    assert_wp_error(limited, 429, "too_many_requests")
    malformed = http.get("/orders")
    assert malformed.status_code == 200
    with pytest.raises(ValueError):
        malformed.json()
    assert [http.get("/orders").status_code for _ in range(3)] == [500, 500, 200]


def test_slow_next_delays_then_serves(store, http):
    store.slow_next(1)

    with pytest.raises(httpx.ReadTimeout):
        http.get("/orders", timeout=0.2)
    assert http.get("/orders").status_code == 200


def test_send_webhook_signs_the_raw_body_like_woocommerce(store):
    order = add(store)
    received = []

    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=200)

    with RunningServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as running:
        response = store.send_webhook(
            f"{running.url}/hook", topic="order.updated", order_id=order["id"], secret="s3cret"
        )
        ping = store.send_ping(f"{running.url}/hook", webhook_id=4)

    assert (response.status_code, ping.status_code) == (200, 200)
    headers, body = received[0]
    expected = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
    assert headers["x-wc-webhook-signature"] == expected
    assert headers["x-wc-webhook-topic"] == "order.updated"
    assert json.loads(body)["id"] == order["id"]
    assert received[1][1] == b"webhook_id=4"
    assert "x-wc-webhook-signature" not in received[1][0]
