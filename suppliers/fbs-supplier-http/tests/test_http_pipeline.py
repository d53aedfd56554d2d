"""The HTTP supplier inside the real pipeline, against the warehouse imitation on loopback.

Where the wire matters: a part on two store lines must reach the warehouse as one line
(openapi.yaml: a part number appears once per purchase order), and a part number longer
than the API's 64 characters must never reach it (nor the card be charged for it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fbs_core.db import repository as repo
from fbs_core.domain import OrderStatus
from fbs_core.engine import Engine
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order
from fbs_core.testing.harness import build_engine
from fbs_core.testing.ledger import EffectLedger, forget_shared_ledgers, shared_ledger


@pytest.fixture
def ledger() -> Iterator[EffectLedger]:
    fakes.reset()
    forget_shared_ledgers()
    yield shared_ledger("default")
    fakes.reset()
    forget_shared_ledgers()


@pytest.fixture
def make_engine(fbs_database_url: str, ledger: EffectLedger) -> Iterator[Callable[..., Engine]]:
    """An engine with a fake channel and card, and the ``http`` supplier pointed at a rig."""
    engines: list[Engine] = []

    def build(rig: Any) -> Engine:
        config: dict[str, Any] = {
            "scheduler": {"workers": 2, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02},
            "fulfillment": {"price_drift_tolerance_percent": 1000},
            "channels": {"shop": {"type": "fake-channel"}},
            "suppliers": {
                "east": {
                    "type": "http",
                    "options": {
                        "base_url": rig.server.url,
                        "api_key": rig.api_key,
                        "ship_from_zip": "75201",
                        "timeout": 5,
                    },
                }
            },
            "payments": {"card": {"type": "fake-payment"}},
        }
        engine = build_engine(
            fbs_database_url,
            config,
            modules=("fbs_core.testing.fakes", "fbs_supplier_http.plugin"),
        )
        engines.append(engine)
        return engine

    yield build
    for engine in engines:
        engine.stop()
        engine.db.dispose()


def detail(engine: Engine, order_id: int = 1):
    with engine.db.transaction() as session:
        return repo.order_detail(session, engine.ctx.merchant_id, order_id)


def test_a_part_on_two_store_lines_reaches_the_warehouse_as_one_line(rig, make_engine, ledger):
    engine = make_engine(rig)
    fakes.market("default").add(make_order("A1", [("BR-1043", 1), ("BR-1043", 2)]))

    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed, (d.order.hold_reason, d.order.hold_message)
    [post] = rig.requests("POST", "/v1/purchase-orders")
    assert [(x["part_number"], x["quantity"]) for x in json.loads(post.request_body)["lines"]] == [
        ("BR-1043", 3)
    ]
    assert [(line.line_id, line.shipped_quantity) for line in d.order.lines] == [
        ("A1-1", 1),
        ("A1-2", 2),
    ]
    assert rig.warehouse.purchase_orders == 1
    assert ledger.count("charge") == 1 and ledger.count("refund") == 0


def test_a_part_number_longer_than_the_api_carries_is_held_before_any_charge(
    rig, make_engine, ledger
):
    long_sku = "BR-1043-" + "X" * 70
    engine = make_engine(rig)
    fakes.market("default").add(make_order("A1", [(long_sku, 1)]))

    engine.run_until_idle()

    d = detail(engine)
    assert (d.order.status, d.order.hold_reason) == (OrderStatus.held, "unsupported_part_number")
    assert "78 characters long; at most 64 fit" in d.order.hold_message
    assert ledger.calls("charge") == 0
    assert rig.requests("GET", "/v1/stock") == []  # never asked: it cannot be expressed
    assert rig.requests("POST", "/v1/purchase-orders") == []
