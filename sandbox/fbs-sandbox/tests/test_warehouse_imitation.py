"""The warehouse imitation keeps the fbs warehouse API (fbs_supplier_http/openapi.yaml).

Requests go over real HTTP on 127.0.0.1; every answer is validated against the document
when each test ends.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from fbs_sandbox.serving import serve
from fbs_sandbox.warehouse import StockItem, WarehouseImitation
from fbs_supplier_http.conformance import ConformanceRecorder, ContractChecker

KEY = "wh_sandbox_key_42"
ADDRESS = {
    "name": "Dana Whitfield",
    "line1": "4410 Mockingbird Ln",
    "city": "Dallas",
    "region": "TX",
    "postal_code": "75205",
    "country": "US",
}


def stock() -> dict[str, StockItem]:
    return {
        "BR-1043": StockItem(quantity=12, unit_cost_cents=4599, weight_grams=3200),
        "AC-221-REMAN": StockItem(quantity=3, unit_cost_cents=18900, core_charge_cents=5000),
        "OF-77": StockItem(quantity=0, unit_cost_cents=899),
    }


def order_body(po_number: str = "PO-1", **lines: int) -> dict:
    wanted = lines or {"BR-1043": 2, "AC-221-REMAN": 1}
    return {
        "po_number": po_number,
        "reference": "#1187",
        "ship_to": dict(ADDRESS),
        "lines": [
            {
                "part_number": part.replace("_", "-"),
                "quantity": qty,
                "expected_unit_cost_cents": 100,
                "expected_core_charge_cents": 0,
            }
            for part, qty in wanted.items()
        ],
    }


@dataclass
class Site:
    warehouse: WarehouseImitation
    http: httpx.Client
    recorder: ConformanceRecorder
    tolerated_bad_responses: int = 0

    def place(self, body: dict | None = None) -> httpx.Response:
        return self.http.post("/v1/purchase-orders", json=body or order_body())

    def shipments(self, after: str | None = None, limit: int | None = None) -> dict:
        params: dict = {}
        if after is not None:
            params["after"] = after
        if limit is not None:
            params["limit"] = limit
        response = self.http.get("/v1/shipments", params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def checker() -> ContractChecker:
    return ContractChecker()


@pytest.fixture
def make_site(checker: ContractChecker) -> Iterator:
    sites: list[tuple[Site, object]] = []

    def build(**kwargs) -> Site:
        kwargs.setdefault("stock", stock())
        warehouse = WarehouseImitation("Gulf Parts", KEY, **kwargs)
        recorder = ConformanceRecorder(warehouse.app)
        server = serve(recorder)
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10
        )
        site = Site(warehouse, client, recorder)
        sites.append((site, server))
        return site

    yield build
    for site, server in sites:
        site.http.close()
        server.stop()
        problems = [p for x in site.recorder.exchanges for p in checker.response_problems(x)]
        assert len(problems) == site.tolerated_bad_responses, "\n".join(problems)


@pytest.fixture
def site(make_site) -> Site:
    return make_site()


def error_code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]


# -- auth --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/stock?part_numbers=BR-1043"),
        ("POST", "/v1/purchase-orders"),
        ("GET", "/v1/purchase-orders/PO-1"),
        ("POST", "/v1/purchase-orders/PO-1/cancel"),
        ("GET", "/v1/shipments"),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {KEY}"])
def test_every_endpoint_refuses_a_missing_or_wrong_key(site, method, path, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    site.http.headers.pop("Authorization")

    response = site.http.request(method, path, headers=headers, json=order_body())

    assert response.status_code == 401
    assert error_code(response) == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert site.warehouse.purchase_orders == 0


# -- stock -------------------------------------------------------------------------------


def test_stock_reports_carried_parts_and_omits_the_rest(site):
    response = site.http.get("/v1/stock", params={"part_numbers": "BR-1043,ZZ-404,OF-77"})

    assert response.json() == {
        "currency": "USD",
        "items": [
            {
                "part_number": "BR-1043",
                "quantity_available": 12,
                "unit_cost_cents": 4599,
                "core_charge_cents": 0,
                "weight_grams": 3200,
            },
            {
                "part_number": "OF-77",
                "quantity_available": 0,
                "unit_cost_cents": 899,
                "core_charge_cents": 0,
                "weight_grams": 1000,
            },
        ],
    }


@pytest.mark.parametrize(
    "part_numbers",
    ["", ",".join(f"P{n}" for n in range(101)), "BR-1043,,OF-77", "BR-1043," + "X" * 65],
)
def test_stock_refuses_a_bad_part_number_list(site, part_numbers):
    response = site.http.get("/v1/stock", params={"part_numbers": part_numbers})

    assert response.status_code == 400
    assert error_code(response) == "invalid_request"


# -- purchase orders ---------------------------------------------------------------------


def test_an_order_is_accepted_priced_and_reserved(make_site):
    site = make_site(ship_delay_seconds=60)
    response = site.place()

    order = response.json()
    assert response.status_code == 201
    assert (order["po_number"], order["status"], order["currency"]) == ("PO-1", "accepted", "USD")
    assert order["warehouse_order_id"].startswith("WO-")
    assert [
        (x["part_number"], x["quantity"], x["unit_cost_cents"], x["core_charge_cents"])
        for x in order["lines"]
    ] == [("BR-1043", 2, 4599, 0), ("AC-221-REMAN", 1, 18900, 5000)]
    assert site.warehouse.stock_of("BR-1043").quantity == 10
    assert site.http.get("/v1/purchase-orders/PO-1").json() == order


def test_the_same_po_number_and_body_replays_the_first_order(make_site):
    site = make_site(ship_delay_seconds=60)
    first = site.place()
    reordered = order_body()
    reordered["ship_to"] = dict(reversed(list(ADDRESS.items())))

    second = site.place(reordered)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert (site.warehouse.purchase_orders, site.warehouse.duplicate_effects) == (1, 0)
    assert site.warehouse.stock_of("BR-1043").quantity == 10


def test_the_same_po_number_with_another_body_is_a_conflict(site):
    site.place()

    response = site.place(order_body(BR_1043=5))

    assert response.status_code == 409
    assert error_code(response) == "po_number_conflict"
    assert site.warehouse.stock_of("BR-1043").quantity == 10


def test_short_stock_refuses_the_whole_order_and_reserves_nothing(site):
    response = site.place(order_body(BR_1043=2, AC_221_REMAN=4, ZZ_404=1))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "insufficient_stock"
    assert response.json()["error"]["part_numbers"] == ["AC-221-REMAN", "ZZ-404"]
    assert site.warehouse.stock_of("BR-1043").quantity == 12
    assert site.warehouse.purchase_orders == 0
    assert site.http.get("/v1/purchase-orders/PO-1").status_code == 404


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda b: b["lines"][0].update(quantity=0), "lines.0.quantity"),
        (lambda b: b["ship_to"].pop("city"), "ship_to.city"),
        (lambda b: b.update(gift_wrap=True), "gift_wrap"),
        (lambda b: b["lines"].append(dict(b["lines"][0])), "two lines"),
    ],
)
def test_a_bad_order_body_is_refused_with_the_field_named(site, change, says):
    body = order_body()
    change(body)

    response = site.place(body)

    assert response.status_code == 400
    assert error_code(response) == "invalid_request"
    assert says in response.json()["error"]["message"]


def test_a_body_that_is_not_json_is_refused(site):
    response = site.http.post(
        "/v1/purchase-orders", content=b"po_number=1", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert error_code(response) == "invalid_request"


def test_an_unknown_po_number_is_not_found(site):
    response = site.http.get("/v1/purchase-orders/PO-404")

    assert response.status_code == 404
    assert error_code(response) == "po_not_found"


# -- shipping ----------------------------------------------------------------------------


def test_orders_ship_after_the_delay_with_a_carrier_and_tracking(make_site):
    site = make_site(ship_delay_seconds=600)
    site.place()

    waiting = site.shipments()
    site.warehouse.advance(599)
    still_waiting = site.shipments(waiting["next_cursor"])
    site.warehouse.advance(1)
    shipped = site.shipments(waiting["next_cursor"])

    assert waiting["shipments"] == still_waiting["shipments"] == []
    [parcel] = shipped["shipments"]
    assert parcel["po_number"] == "PO-1"
    assert parcel["carrier"] in {"UPS", "FedEx", "USPS"}
    assert parcel["tracking_number"] in parcel["tracking_url"]
    assert parcel["lines"] == [
        {"part_number": "BR-1043", "quantity": 2},
        {"part_number": "AC-221-REMAN", "quantity": 1},
    ]
    assert site.http.get("/v1/purchase-orders/PO-1").json()["status"] == "shipped"
    assert site.warehouse.shipments == 1


def test_nothing_new_gives_an_empty_list_and_the_same_cursor(site):
    site.place()
    first = site.shipments()

    again = site.shipments(first["next_cursor"])

    assert len(first["shipments"]) == 1
    assert again == {"shipments": [], "next_cursor": first["next_cursor"], "has_more": False}


def test_pages_follow_limit_and_has_more(site):
    site.warehouse.set_stock("BR-1043", StockItem(quantity=100, unit_cost_cents=4599))
    for n in range(5):
        site.place(order_body(f"PO-{n}", BR_1043=1))

    pages, cursor = [], None
    while True:
        page = site.shipments(cursor, limit=2)
        pages.append([s["po_number"] for s in page["shipments"]])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break

    assert pages == [["PO-0", "PO-1"], ["PO-2", "PO-3"], ["PO-4"]]


@pytest.mark.parametrize("after", ["garbage", "R1VMRlBBOjk5"])
def test_a_cursor_the_warehouse_did_not_issue_is_refused(site, after):
    response = site.http.get("/v1/shipments", params={"after": after})

    assert response.status_code == 400
    assert error_code(response) == "invalid_cursor"


def test_split_shipments_send_two_parcels_at_different_times(make_site):
    site = make_site(ship_delay_seconds=30, split_shipments=True)
    site.place(order_body(BR_1043=1, AC_221_REMAN=1))

    site.warehouse.advance(30)
    first = site.shipments()
    status = site.http.get("/v1/purchase-orders/PO-1").json()["status"]
    site.warehouse.advance(30)
    second = site.shipments(first["next_cursor"])

    assert [s["lines"] for s in first["shipments"]] == [[{"part_number": "BR-1043", "quantity": 1}]]
    assert status == "partially_shipped"
    assert [s["lines"] for s in second["shipments"]] == [
        [{"part_number": "AC-221-REMAN", "quantity": 1}]
    ]
    assert first["shipments"][0]["shipped_at"] < second["shipments"][0]["shipped_at"]


def test_tracking_numbers_look_like_the_carriers(site):
    site.warehouse.set_stock("BR-1043", StockItem(quantity=100, unit_cost_cents=4599))
    for n in range(30):
        site.place(order_body(f"PO-{n}", BR_1043=1))

    parcels = site.shipments(limit=100)["shipments"]

    by_carrier = {s["carrier"]: s["tracking_number"] for s in parcels}
    assert set(by_carrier) == {"UPS", "FedEx", "USPS"}
    ups, fedex, usps = by_carrier["UPS"], by_carrier["FedEx"], by_carrier["USPS"]
    assert ups.startswith("1Z") and len(ups) == 18 and ups[2:].isalnum()
    assert fedex.isdigit() and len(fedex) == 12
    assert usps.startswith("9400") and usps.isdigit() and len(usps) == 22
    assert len({s["tracking_number"] for s in parcels}) == 30


# -- cancellation ------------------------------------------------------------------------


def test_cancel_before_shipping_cancels_everything_once(make_site):
    site = make_site(ship_delay_seconds=60)
    site.place()

    first = site.http.post("/v1/purchase-orders/PO-1/cancel").json()
    second = site.http.post("/v1/purchase-orders/PO-1/cancel").json()
    site.warehouse.advance(120)

    assert (
        first
        == second
        == {
            "po_number": "PO-1",
            "status": "cancelled",
            "cancelled_lines": [
                {"part_number": "BR-1043", "quantity": 2},
                {"part_number": "AC-221-REMAN", "quantity": 1},
            ],
        }
    )
    assert site.warehouse.cancellations == 1
    assert site.warehouse.stock_of("AC-221-REMAN").quantity == 3
    assert site.shipments()["shipments"] == []


def test_cancel_after_shipping_changes_nothing(site):
    site.place()
    site.shipments()

    response = site.http.post("/v1/purchase-orders/PO-1/cancel")

    assert response.status_code == 200
    assert response.json() == {"po_number": "PO-1", "status": "shipped", "cancelled_lines": []}
    assert site.warehouse.stock_of("BR-1043").quantity == 10


def test_cancel_of_an_unknown_order_is_not_found(site):
    response = site.http.post("/v1/purchase-orders/PO-404/cancel")
    assert (response.status_code, error_code(response)) == (404, "po_not_found")


# -- faults ------------------------------------------------------------------------------


def test_fail_next_answers_the_next_requests_with_the_status_and_headers(site):
    site.warehouse.fail_next(429, times=2, headers={"Retry-After": "12"})

    answers = [site.http.get("/v1/stock", params={"part_numbers": "BR-1043"}) for _ in range(3)]

    assert [r.status_code for r in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "12"
    assert error_code(answers[1]) == "rate_limited"


def test_a_failure_before_the_effect_places_nothing(site):
    site.warehouse.fail_next(503)

    assert site.place().status_code == 503
    assert site.warehouse.purchase_orders == 0


def test_a_failure_after_the_effect_loses_only_the_answer(site):
    site.warehouse.fail_next(500, after_effect=True)

    lost = site.place()
    retried = site.place()

    assert (lost.status_code, retried.status_code) == (500, 200)
    assert (site.warehouse.purchase_orders, site.warehouse.duplicate_effects) == (1, 0)


def test_slow_next_delays_one_answer_past_a_client_timeout(site):
    site.warehouse.slow_next(2)

    with pytest.raises(httpx.ReadTimeout):
        site.http.get("/v1/stock", params={"part_numbers": "BR-1043"}, timeout=0.2)
    assert site.http.get("/v1/stock", params={"part_numbers": "BR-1043"}).status_code == 200


def test_malformed_next_sends_a_body_that_is_not_json(site):
    site.warehouse.malformed_next()
    site.tolerated_bad_responses = 1

    response = site.http.get("/v1/stock", params={"part_numbers": "BR-1043"})

    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_unknown_paths_answer_with_the_error_body(site):
    site.tolerated_bad_responses = 1  # the path is not in the document, by design

    response = site.http.get("/v2/stock")
    assert (response.status_code, error_code(response)) == (404, "not_found")


# -- concurrency -------------------------------------------------------------------------


def test_concurrent_retries_of_one_order_make_one_order(site):
    statuses: list[int] = []

    def place() -> None:
        with httpx.Client(base_url=site.http.base_url, headers=site.http.headers) as client:
            statuses.append(client.post("/v1/purchase-orders", json=order_body()).status_code)

    threads = [threading.Thread(target=place) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(statuses) == [200] * 11 + [201]
    assert (site.warehouse.purchase_orders, site.warehouse.duplicate_effects) == (1, 0)
    assert site.warehouse.stock_of("BR-1043").quantity == 10
