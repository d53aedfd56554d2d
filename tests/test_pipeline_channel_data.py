"""Channel data: the channel's own references, stored at intake and handed back with tracking.

* each parcel's push carries the order's channel data and, on each line, that line's;
* a part on two store lines and a partial shipment keep each line's own data;
* an upstream modification replaces the data, before and after the parts were bought.
"""

from __future__ import annotations

from typing import Any

from fbs_core.db import repository as repo
from fbs_core.domain import IncomingOrder, OrderStatus
from fbs_core.pipeline import actions
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order
from fbs_core.testing.harness import basic_config

ORDER_DATA = {"fulfillment_order_id": "gid://shopify/FulfillmentOrder/9001"}


def detail(engine, order_id: int = 1):
    with engine.db.transaction() as session:
        return repo.order_detail(session, engine.ctx.merchant_id, order_id)


def one_warehouse(**options: Any) -> dict:
    """The basic config with only the ``east`` warehouse, its options changed."""
    config = basic_config()
    del config["suppliers"]["west"]
    config["suppliers"]["east"]["options"].update(options)
    return config


def with_channel_data(
    order: IncomingOrder, order_data: dict[str, str], version: str = "v1"
) -> IncomingOrder:
    """``order`` with its channel data and, on each line, a line item id of ``version``."""
    lines = tuple(
        line.model_copy(update={"channel_data": {"line_item_id": f"{line.line_id}-{version}"}})
        for line in order.lines
    )
    return order.model_copy(update={"channel_data": order_data, "lines": lines})


def pushed(push) -> list[tuple[str, int, dict[str, str]]]:
    return [(x["line_id"], x["quantity"], x["channel_data"]) for x in push.payload["lines"]]


def test_each_parcel_of_a_partial_shipment_carries_the_channel_data_of_its_lines(
    make_engine, ledger
):
    engine = make_engine(one_warehouse(ship_immediately=False))
    order = make_order("A1", [("OIL-FLT-5W30", 2), ("OIL-FLT-5W30", 3), ("WPR-BLD-22", 1)])
    fakes.market("default").add(with_channel_data(order, ORDER_DATA))
    engine.run_until_idle()
    [po] = detail(engine).purchase_orders

    fakes.ship_part(ledger, "east", po.po_number, 1, {"OIL-FLT-5W30": 3})
    engine.run_until_idle()
    fakes.ship_part(ledger, "east", po.po_number, 2, {"OIL-FLT-5W30": 2, "WPR-BLD-22": 1})
    engine.run_until_idle()

    assert detail(engine).order.status is OrderStatus.completed
    first, second = ledger.effects("tracking")
    assert first.payload["channel_data"] == ORDER_DATA
    assert second.payload["channel_data"] == ORDER_DATA
    assert pushed(first) == [
        ("A1-1", 2, {"line_item_id": "A1-1-v1"}),
        ("A1-2", 1, {"line_item_id": "A1-2-v1"}),
    ]
    assert pushed(second) == [
        ("A1-2", 2, {"line_item_id": "A1-2-v1"}),
        ("A1-3", 1, {"line_item_id": "A1-3-v1"}),
    ]


def test_an_order_without_channel_data_pushes_empty_channel_data(make_engine, ledger):
    engine = make_engine(one_warehouse())
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.run_until_idle()

    [push] = ledger.effects("tracking")
    assert push.payload["channel_data"] == {}
    assert pushed(push) == [("A1-1", 1, {})]


def test_a_modification_before_purchase_replaces_the_channel_data(make_engine, ledger):
    engine = make_engine(mode="manual")
    order = make_order("A1", [("OIL-FLT-5W30", 1)])
    fakes.market("default").add(with_channel_data(order, ORDER_DATA))
    engine.run_until_idle()
    assert detail(engine).order.status is OrderStatus.held

    modified = make_order("A1", [("OIL-FLT-5W30", 2)], minute=5)
    fakes.market("default").add(with_channel_data(modified, {"fulfillment_order_id": "9002"}, "v2"))
    engine.run_until_idle()
    actions.approve_order(engine.ctx, 1)
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    assert d.order.channel_data == {"fulfillment_order_id": "9002"}
    [push] = ledger.effects("tracking")
    assert push.payload["channel_data"] == {"fulfillment_order_id": "9002"}
    assert pushed(push) == [("A1-1", 2, {"line_item_id": "A1-1-v2"})]


def test_channel_data_changed_after_purchase_reaches_the_parcels_shipped_after(make_engine, ledger):
    engine = make_engine(one_warehouse(ship_immediately=False))
    order = make_order("A1", [("OIL-FLT-5W30", 2), ("WPR-BLD-22", 1)])
    fakes.market("default").add(with_channel_data(order, ORDER_DATA))
    engine.run_until_idle()
    [po] = detail(engine).purchase_orders
    fakes.ship_part(ledger, "east", po.po_number, 1, {"OIL-FLT-5W30": 2})
    engine.run_until_idle()

    moved = with_channel_data(order, {"fulfillment_order_id": "9002"}, "v2")
    fakes.market("default").add(
        moved.model_copy(update={"updated_at": fakes.EPOCH.replace(hour=1)})
    )
    engine.run_until_idle()
    fakes.ship_part(ledger, "east", po.po_number, 2, {"WPR-BLD-22": 1})
    engine.run_until_idle()

    d = detail(engine)
    assert d.order.status is OrderStatus.completed
    assert ledger.count("charge") == 1 and ledger.count("purchase_order") == 1
    first, second = ledger.effects("tracking")
    assert first.payload["channel_data"] == ORDER_DATA
    assert pushed(first) == [("A1-1", 2, {"line_item_id": "A1-1-v1"})]
    assert second.payload["channel_data"] == {"fulfillment_order_id": "9002"}
    assert pushed(second) == [("A1-2", 1, {"line_item_id": "A1-2-v2"})]
