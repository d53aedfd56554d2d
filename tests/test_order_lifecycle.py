"""The order state machine: every (status, event) pair has a verdict, and README shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fbs_core.domain import OrderStatus
from fbs_core.domain.lifecycle import (
    RESUME_TARGETS,
    TRANSITIONS,
    IllegalTransition,
    OrderEvent,
    Verdict,
    mermaid_diagram,
    next_status,
)

S = OrderStatus
E = OrderEvent
README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_status_and_event_pair_has_a_verdict() -> None:
    pairs = {(status, event) for status in OrderStatus for event in OrderEvent}
    assert set(TRANSITIONS) == pairs
    for outcome in TRANSITIONS.values():
        assert isinstance(outcome, (OrderStatus, Verdict))


@pytest.mark.parametrize(("status", "event"), sorted(TRANSITIONS, key=str))
def test_each_pair_moves_stays_resumes_or_raises(status: OrderStatus, event: OrderEvent) -> None:
    outcome = TRANSITIONS[(status, event)]
    if outcome is Verdict.illegal:
        with pytest.raises(IllegalTransition):
            next_status(status, event, held_from=S.ordered)
    elif outcome is Verdict.stay:
        assert next_status(status, event) is status
    elif outcome is Verdict.resume:
        for target in RESUME_TARGETS:
            assert next_status(status, event, held_from=target) is target
    else:
        assert next_status(status, event) is outcome


@pytest.mark.parametrize(
    ("status", "event", "expected"),
    [
        # the path
        (S.received, E.passed_review, S.approved),
        (S.approved, E.sourced, S.sourced),
        (S.sourced, E.charged, S.charged),
        (S.charged, E.all_ordered, S.ordered),
        (S.ordered, E.parcel_shipped, S.partially_shipped),
        (S.partially_shipped, E.all_shipped, S.shipped),
        (S.shipped, E.completed, S.completed),
        # events that arrive late never move an order backwards
        (S.shipped, E.all_ordered, S.shipped),
        (S.partially_shipped, E.all_ordered, S.partially_shipped),
        (S.completed, E.all_ordered, S.completed),
        (S.cancelled, E.charged, S.cancelled),
        (S.shipped, E.charged, S.shipped),
        (S.completed, E.parcel_shipped, S.completed),
        # a held order whose every unit shipped or was cancelled meanwhile is done
        (S.held, E.completed, S.completed),
        # a cancelled order whose refund failed waits for the merchant
        (S.cancelled, E.held, S.held),
        # the channel may change an order until parts are bought
        (S.rejected, E.modified_upstream, S.received),
        (S.held, E.modified_upstream, S.received),
    ],
)
def test_what_an_event_means_in_a_state(
    status: OrderStatus, event: OrderEvent, expected: OrderStatus
) -> None:
    assert next_status(status, event) is expected


@pytest.mark.parametrize(
    ("status", "event"),
    [
        (S.completed, E.cancelled),  # a completed order cannot be cancelled
        (S.completed, E.held),
        (S.shipped, E.cancelled),  # something shipped: it completes instead
        (S.charged, E.modified_upstream),  # money taken: the change is not applied
        (S.received, E.charged),  # never charged before a plan
        (S.rejected, E.passed_review),
        (S.cancelled, E.sourced),
    ],
)
def test_impossible_events_are_bugs(status: OrderStatus, event: OrderEvent) -> None:
    with pytest.raises(IllegalTransition):
        next_status(status, event)


def test_a_held_order_resumes_only_to_where_it_was_held_from() -> None:
    assert next_status(S.held, E.resumed, held_from=S.ordered) is S.ordered
    with pytest.raises(IllegalTransition):
        next_status(S.held, E.resumed, held_from=None)
    with pytest.raises(IllegalTransition):
        next_status(S.held, E.resumed, held_from=S.completed)


def test_final_states_take_no_forward_step() -> None:
    for status in (S.completed, S.cancelled, S.rejected):
        for event in (E.passed_review, E.sourced, E.all_shipped):
            outcome = TRANSITIONS[(status, event)]
            assert outcome in (Verdict.illegal, Verdict.stay), (status, event, outcome)


def test_readme_state_diagram_is_the_table() -> None:
    text = README.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- order-state-diagram.*?-->\n```mermaid\n(.*?)\n```\n<!-- end order-state-diagram -->",
        text,
        re.DOTALL,
    )
    assert found, "README.md has no generated order state diagram"
    assert found.group(1) == mermaid_diagram(), (
        "README's state diagram differs from the transition table; paste the output of "
        "`python -c 'from fbs_core.domain.lifecycle import mermaid_diagram; print(mermaid_diagram())'`"
    )
