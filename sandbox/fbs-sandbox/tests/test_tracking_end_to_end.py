"""Tracking reaches the store's order through the real WooCommerce plugin and pipeline.

An order whose two parts come from two warehouses ships as two parcels. With the Shipment
Tracking extension each parcel becomes exactly one tracking item on the order, even when
the store answers the first write with an HTML error page after saving it; without the
extension each parcel becomes one customer note and one ``_fbs_tracking_<tracking number>``
order meta entry, as the plugin's README says.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from fbs_core.db import repository as repo
from fbs_core.testing import fakes
from fbs_core.testing.harness import build_engine
from fbs_core.testing.ledger import forget_shared_ledgers
from fbs_sandbox.serving import serve
from fbs_sandbox.woocommerce import WooCommerceImitation

KEY, SECRET = "ck_test_tracking", "cs_test_tracking"
AUSTIN = {
    "first_name": "Pat",
    "last_name": "Buyer",
    "address_1": "100 Congress Ave",
    "city": "Austin",
    "state": "TX",
    "postcode": "78701",
    "country": "US",
}
HTML_500 = b"<html><body><p>There has been a critical error on this website.</p></body></html>"


def warehouse(zip_code: str, sku: str) -> dict[str, Any]:
    return {
        "type": "fake-supplier",
        "options": {
            "ship_from_zip": zip_code,
            "stock": {sku: {"quantity": 10, "unit_cost_cents": 2000}},
        },
    }


@pytest.fixture(params=[True, False], ids=["with-extension", "without-extension"])
def store(request) -> Iterator[tuple[WooCommerceImitation, str]]:
    imitation = WooCommerceImitation(KEY, SECRET, shipment_tracking=request.param)
    server = serve(imitation.app)
    yield imitation, server.url
    server.stop()


@pytest.fixture
def engine(store, fbs_database_url):
    fakes.reset()
    forget_shared_ledgers()
    _, url = store
    config = {
        "scheduler": {"workers": 2, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02},
        "channels": {
            "shop": {
                "type": "woocommerce",
                "options": {"url": url, "consumer_key": KEY, "consumer_secret": SECRET},
            }
        },
        "suppliers": {
            "east": warehouse("07102", "BRK-PAD-F"),
            "west": warehouse("90001", "OIL-FLT-5W30"),
        },
        "payments": {"card": {"type": "fake-payment"}},
    }
    built = build_engine(fbs_database_url, config, load_entrypoints=True)
    yield built
    built.stop()
    built.db.dispose()
    fakes.reset()
    forget_shared_ledgers()


def run_until_completed(engine, external_id: str) -> str:
    """Run passes until the order is completed (retries wait out a short backoff)."""
    status = ""
    for _ in range(50):
        engine.run_until_idle()
        with engine.db.transaction() as session:
            [order] = [
                o for o in repo.list_orders(session, "default") if o.external_id == external_id
            ]
            status = order.status.value
        if status == "completed":
            break
        time.sleep(0.05)
    return status


def test_each_parcel_becomes_one_tracking_entry_on_its_order(store, engine):
    imitation, _ = store
    order = imitation.add_order(
        lines=[
            {"sku": "BRK-PAD-F", "quantity": 1, "price": "59.00"},
            {"sku": "OIL-FLT-5W30", "quantity": 2, "price": "12.99"},
        ],
        shipping=AUSTIN,
        shipping_total="15.00",
    )
    imitation.fail_after_next(
        500,
        method="POST",
        path_suffix="/shipment-trackings",
        body=HTML_500,
        headers={"Content-Type": "text/html; charset=UTF-8"},
    )
    if not imitation.shipment_tracking:  # the fallback's write is the customer note
        imitation.fail_after_next(500, method="POST", path_suffix="/notes", body=HTML_500)

    status = run_until_completed(engine, str(order["id"]))

    assert status == "completed"
    with engine.db.transaction() as session:
        shipments = repo.order_detail(session, "default", 1).shipments
    numbers = sorted(s.tracking_number for s in shipments)
    assert len(numbers) == 2 and all(s.tracking_pushed for s in shipments)
    stored = imitation.orders[order["id"]]
    customer_notes = [n["note"] for n in imitation.notes[order["id"]] if n["customer_note"]]
    fbs_meta = [m for m in stored["meta_data"] if m["key"].startswith("_fbs_tracking")]
    if imitation.shipment_tracking:
        items = imitation.trackings[order["id"]]
        assert sorted(i["tracking_number"] for i in items) == numbers
        assert (customer_notes, fbs_meta) == ([], [])
    else:
        assert sorted(m["key"] for m in fbs_meta) == [f"_fbs_tracking_{n}" for n in numbers]
        assert sorted(m["value"]["tracking_number"] for m in fbs_meta) == numbers
        assert len(customer_notes) == 2
        assert all(any(n in note for note in customer_notes) for n in numbers)
    assert imitation.duplicate_effects == 0
    assert stored["status"] == "completed"
