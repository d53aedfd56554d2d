"""The eBay imitation as a demo store: planned demo orders through the real plugin.

Specified here: the store implements the demo's store protocol; the options it gives
point the real ``ebay`` channel at the served imitation; ordinary planned orders end
completed with one fulfillment per parcel, counted by the store, and no duplicate; a
problem order ends with the reason the demo expects.
"""

from __future__ import annotations

import time

from fbs_core.db import repository as repo
from fbs_core.testing import fakes
from fbs_core.testing.harness import build_engine
from fbs_core.testing.ledger import forget_shared_ledgers
from fbs_sandbox.demo_data import CATALOG, plan_orders
from fbs_sandbox.ebay.demo_store import EbayDemoStore
from fbs_sandbox.serving import serve
from fbs_sandbox.warehouse import StockItem, WarehouseImitation


def test_planned_orders_complete_through_the_demo_store(fbs_database_url):
    fakes.reset()
    forget_shared_ledgers()
    store = EbayDemoStore()
    assert store.channel_type == "ebay"
    warehouse = WarehouseImitation(
        "demo-east", "wh_demo_key", stock={p.sku: StockItem(500, p.cost_cents) for p in CATALOG}
    )
    store_server, warehouse_server = serve(store.app), serve(warehouse.app)
    planned = plan_orders(4, seed=7)
    placed = {store.place_order(order): order for order in planned}
    config = {
        "scheduler": {"workers": 2, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02},
        "fulfillment": {"price_drift_tolerance_percent": 1000},
        "channels": {"ebay": {"type": "ebay", "options": store.channel_options(store_server.url)}},
        "suppliers": {
            "east": {
                "type": "http",
                "options": {
                    "base_url": warehouse_server.url,
                    "api_key": "wh_demo_key",
                    "ship_from_zip": "07102",
                },
            }
        },
        "payments": {"card": {"type": "fake-payment"}},
    }
    engine = build_engine(fbs_database_url, config, load_entrypoints=True)
    try:
        expected_done = sum(1 for o in planned if o.expect == "completed")
        for _ in range(60):
            engine.run_until_idle()
            if store.completed_orders() >= expected_done:
                break
            time.sleep(0.05)
        with engine.db.transaction() as session:
            stored = {o.external_id: o for o in repo.list_orders(session, "default")}
    finally:
        engine.stop()
        engine.db.dispose()
        store_server.stop()
        warehouse_server.stop()
        fakes.reset()
        forget_shared_ledgers()

    for external_id, order in placed.items():
        if order.expect == "completed":
            assert stored[external_id].status.value == "completed"
        else:
            assert stored[external_id].hold_reason == order.expect
    assert store.completed_orders() == expected_done
    assert store.tracking_pushes() >= expected_done
    assert store.duplicate_effects() == 0
    assert store.imitation.contract_problems == []
