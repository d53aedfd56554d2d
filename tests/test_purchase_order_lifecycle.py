"""The purchase-order state machine: every (status, event) pair has its targets.

* an acceptance recorded late never moves a PO backwards;
* a parcel is a fact: it moves a PO to (partially) shipped from any status;
* a cancel answer's outcome is read from the PO's lines and must be one the table allows;
* only ``pipeline/po_transitions.py`` assigns a PO's status; README shows the table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fbs_core.domain.po_lifecycle import (
    TRANSITIONS,
    IllegalPurchaseOrderTransition,
    PurchaseOrderEvent,
    next_po_status,
    po_mermaid_diagram,
)
from fbs_core.domain.purchasing import PurchaseOrderStatus

P = PurchaseOrderStatus
E = PurchaseOrderEvent
ROOT = Path(__file__).resolve().parents[1]


def test_every_status_and_event_pair_has_its_targets() -> None:
    assert set(TRANSITIONS) == {(status, event) for status in P for event in E}


@pytest.mark.parametrize(("status", "event"), sorted(TRANSITIONS, key=str))
def test_each_pair_moves_to_its_only_target_needs_an_outcome_or_raises(
    status: PurchaseOrderStatus, event: PurchaseOrderEvent
) -> None:
    targets = TRANSITIONS[(status, event)]
    if len(targets) == 1:
        assert next_po_status(status, event) is next(iter(targets))
        return
    with pytest.raises(IllegalPurchaseOrderTransition):
        next_po_status(status, event)
    for outcome in P:
        if outcome in targets:
            assert next_po_status(status, event, outcome) is outcome
        else:
            with pytest.raises(IllegalPurchaseOrderTransition):
                next_po_status(status, event, outcome)


@pytest.mark.parametrize(
    ("status", "event", "expected"),
    [
        (P.pending, E.accepted, P.placed),
        (P.failed, E.accepted, P.placed),  # refused, then sent again by the merchant
        (P.shipped, E.accepted, P.shipped),  # the acceptance was recorded after the parcel
        (P.cancelled, E.accepted, P.cancelled),
        (P.pending, E.refused, P.failed),
        (P.failed, E.replaced, P.replaced),
        (P.pending, E.voided, P.cancelled),
        (P.placed, E.cancel_asked, P.cancel_requested),
    ],
)
def test_what_an_event_means_to_a_purchase_order(
    status: PurchaseOrderStatus, event: PurchaseOrderEvent, expected: PurchaseOrderStatus
) -> None:
    assert next_po_status(status, event) is expected


@pytest.mark.parametrize("status", list(P))
def test_a_parcel_moves_any_purchase_order_to_shipped(status: PurchaseOrderStatus) -> None:
    assert next_po_status(status, E.parcel_recorded, P.shipped) is P.shipped
    assert next_po_status(status, E.parcel_recorded, P.partially_shipped) is P.partially_shipped


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (P.shipped, E.refused),  # a refusal after the parcel shipped
        (P.placed, E.voided),  # accepted: it must be cancelled, not voided
        (P.replaced, E.cancel_asked),
        (P.pending, E.cancel_answered),  # never asked before it was accepted
    ],
)
def test_impossible_events_are_bugs(status: PurchaseOrderStatus, event: PurchaseOrderEvent) -> None:
    with pytest.raises(IllegalPurchaseOrderTransition):
        next_po_status(status, event, P.cancelled)


def test_only_the_transition_module_assigns_a_purchase_orders_status() -> None:
    assignment = re.compile(r"\b(po|old|purchase_order)\.status\s*=[^=]")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "fbs_core").rglob("*.py")
        if path.name != "po_transitions.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if assignment.search(line)
    ]
    assert offenders == []


def test_readme_purchase_order_diagram_is_the_table() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- po-state-diagram.*?-->\n```mermaid\n(.*?)\n```\n<!-- end po-state-diagram -->",
        text,
        re.DOTALL,
    )
    assert found, "README.md has no generated purchase-order state diagram"
    assert found.group(1) == po_mermaid_diagram(), (
        "README's purchase-order diagram differs from the table; paste the output of "
        "`python -c 'from fbs_core.domain.po_lifecycle import po_mermaid_diagram; "
        "print(po_mermaid_diagram())'`"
    )
