"""Installation ids: PO numbers and idempotency keys a new database never repeats.

Order ids start again at 1 in a new database (a reset, a move from SQLite to
PostgreSQL), while warehouses and payment gateways remember the numbers they took.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from openapi_schema_validator import OAS31Validator

from fbs_core.db import repository as repo
from fbs_core.errors import OutOfStock
from fbs_core.pipeline.identifiers import (
    INSTALLATION_ALPHABET,
    INSTALLATION_ID_LENGTH,
    format_po_number,
    new_installation_id,
)
from fbs_core.testing import fakes
from fbs_core.testing.database import reset_database
from fbs_core.testing.harness import basic_config
from fbs_supplier_http.conformance import openapi_text

WAREHOUSE_API: dict[str, Any] = yaml.safe_load(openapi_text())
LONGEST_MERCHANT_ID = "a-" + "z9" * 15  # 32 characters: the longest merchant_id allowed
LARGEST_ORDER_ID = 2**63 - 1  # the largest 64-bit id a database hands out


def po_number_errors(value: str) -> list[str]:
    schema = WAREHOUSE_API["components"]["schemas"]["PoNumber"]
    return [error.message for error in OAS31Validator(schema).iter_errors(value)]


def finish_one_order(make_engine, market: str, index: int):
    engine = make_engine(basic_config(market=market))
    fakes.market(market).add(fakes.generated_order(index, seed=3))
    engine.run_until_idle()
    with engine.db.transaction() as session:
        detail = repo.order_detail(session, engine.ctx.merchant_id, 1)
    assert detail is not None and detail.order.status == "completed"
    engine.stop()
    engine.db.dispose()
    return engine, detail


def test_after_a_database_reset_new_orders_get_numbers_and_keys_never_used_before(
    make_engine, fbs_database_url, ledger
):
    _, old = finish_one_order(make_engine, "before", 0)
    reset_database(fbs_database_url)
    _, new = finish_one_order(make_engine, "after", 1)  # our order id 1 again

    assert old.order.external_id != new.order.external_id
    assert new.purchase_orders[0].po_number != old.purchase_orders[0].po_number
    assert new.charges[0].idempotency_key != old.charges[0].idempotency_key
    # the warehouse, the gateway and the store each took the second order as a new one
    assert ledger.count("purchase_order") == ledger.calls("purchase_order") == 2
    assert ledger.count("charge") == ledger.calls("charge") == 2
    assert ledger.count("tracking") == ledger.calls("tracking") == 2


def test_every_number_and_key_sent_out_carries_the_installation_id(make_engine, ledger):
    engine, detail = finish_one_order(make_engine, "default", 0)
    installation = engine.ctx.installation_id()

    assert installation in detail.purchase_orders[0].po_number
    assert installation in ledger.effects("charge")[0].key
    assert installation in ledger.effects("tracking")[0].key


def test_the_installation_id_is_made_once_and_kept(make_engine, fbs_database_url):
    first = make_engine()
    first.prepare()
    second = make_engine()
    second.prepare()

    assert first.ctx.installation_id() == second.ctx.installation_id()
    assert re.fullmatch(
        f"[{INSTALLATION_ALPHABET}]{{{INSTALLATION_ID_LENGTH}}}", first.ctx.installation_id()
    )


def test_the_longest_po_number_fits_the_warehouse_api():
    longest = format_po_number(LONGEST_MERCHANT_ID, new_installation_id(), LARGEST_ORDER_ID, 99)

    assert len(LONGEST_MERCHANT_ID) == 32
    assert po_number_errors(longest) == []
    assert len(longest) <= 64


def test_refund_keys_carry_the_installation_id(make_engine, ledger):
    engine = make_engine(on_no_stock="cancel")
    for warehouse in ("east", "west"):
        fakes.fail_next(
            warehouse, OutOfStock("sold out", skus=("OIL-FLT-5W30",)), method="place_order"
        )
    fakes.market("default").add(fakes.make_order("A1", [("OIL-FLT-5W30", 1)]))

    engine.run_until_idle()

    refunds = ledger.effects("refund")
    assert len(refunds) == 1
    assert engine.ctx.installation_id() in refunds[0].key
