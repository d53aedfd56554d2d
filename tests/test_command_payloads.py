"""Outbox command payloads are typed and versioned.

* each kind's payload is written as JSON and read back equal;
* a payload this fbs cannot read (another version, a missing field) is a fatal error
  naming the command, never a KeyError deep in a handler;
* in the pipeline such a command holds its order with that sentence, and nothing is sent.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fbs_core.db import repository as repo
from fbs_core.db.models import OutboxCommandRow
from fbs_core.domain import Address, OrderStatus, TrackingLine, TrackingPush
from fbs_core.errors import FatalError
from fbs_core.pipeline.command_payloads import (
    AcknowledgePayload,
    CancelPurchaseOrderPayload,
    ChargePayload,
    CommandPayload,
    NotifyPayload,
    PlacePurchaseOrderPayload,
    PurchaseOrderLinePayload,
    PushTrackingPayload,
    RefundPayload,
    SourcePayload,
)
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order

PAYLOADS: list[CommandPayload] = [
    SourcePayload(generation=2, resource_po="PO-1", exclude=("east",), absorb=True),
    ChargePayload(
        order_id=1,
        order_reference="#1001",
        currency="USD",
        amount_cents=10_000,
        parts_cents=8_000,
        core_charges_cents=500,
        shipping_cents=1_000,
        tax_cents=500,
    ),
    PlacePurchaseOrderPayload(
        po_number="PO-1",
        order_reference="#1001",
        ship_to=Address(name="Pat", line1="1 Main", city="Austin", region="TX", country="US"),
        currency="USD",
        lines=(
            PurchaseOrderLinePayload(
                sku="BR-1", quantity=2, unit_cost_cents=1, core_charge_cents=0
            ),
        ),
    ),
    CancelPurchaseOrderPayload(po_number="PO-1", keep={"BR-1": 1}),
    RefundPayload(
        order_id=1, charge_reference="pi_1", amount_cents=500, currency="USD", reason="why"
    ),
    PushTrackingPayload(
        push=TrackingPush(
            idempotency_key="trk-1",
            external_order_id="1001",
            carrier="UPS",
            tracking_number="1Z",
            shipped_at="2026-12-01T10:00:00Z",
            lines=(TrackingLine(line_id="1", sku="BR-1", quantity=1),),
            completes_order=True,
        ),
        shipment_row_id=7,
    ),
    AcknowledgePayload(external_id="1001", message="processing"),
    NotifyPayload(event_id=3, event="held"),
]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.kind)
def test_each_payload_is_stored_as_json_and_read_back_equal(payload: CommandPayload) -> None:
    stored = payload.stored()

    assert stored["version"] == 1
    assert type(payload).read(stored) == payload


def test_a_payload_of_another_version_is_a_fatal_error_naming_the_command() -> None:
    stored = {**CancelPurchaseOrderPayload(po_number="PO-1").stored(), "version": 2}

    with pytest.raises(FatalError) as caught:
        CancelPurchaseOrderPayload.read(stored)

    assert caught.value.code == "unreadable_command"
    assert "cancel_po command's payload cannot be read (version" in caught.value.message


def test_a_payload_missing_a_field_names_it() -> None:
    stored = RefundPayload(
        order_id=1, charge_reference="pi_1", amount_cents=5, currency="USD", reason="r"
    ).stored()
    del stored["amount_cents"]

    with pytest.raises(FatalError, match="amount_cents"):
        RefundPayload.read(stored)


def test_an_unreadable_purchase_order_command_holds_the_order_and_sends_nothing(
    make_engine, ledger
):
    engine = make_engine()
    fakes.fail_next("east", RuntimeError("not yet"), method="place_order")
    fakes.fail_next("west", RuntimeError("not yet"), method="place_order")
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.poll_due(force=True)
    engine.drain()
    with engine.db.transaction() as session:
        command = session.scalars(
            select(OutboxCommandRow).where(OutboxCommandRow.kind == "place_po")
        ).one()
        command.payload = {**command.payload, "version": 9}
        command.next_attempt_at = engine.ctx.now()

    engine.run_until_idle()

    with engine.db.transaction() as session:
        order = repo.get_order(session, engine.ctx.merchant_id, 1)
        assert order.status == OrderStatus.held
        assert "place_po command's payload cannot be read" in (order.hold_message or "")
    assert ledger.count("purchase_order") == 0
