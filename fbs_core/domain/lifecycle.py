"""The order state machine: one table says what every event means in every state.

Status changes happen only through :func:`next_status`. For each pair of a status and an
event the table gives one verdict:

* a status: the order moves there (it may be the same status, e.g. a second hold);
* :data:`Verdict.stay`: the event can really arrive in that state (an answer that was lost
  and came late, a parcel after a cancellation was asked for) and leaves the status as it
  is; the pipeline still records it and settles the money;
* :data:`Verdict.resume`: the order goes back to the status it was held from;
* :data:`Verdict.illegal`: the pair cannot happen unless fbs has a bug; it raises.

README's state diagram is drawn from this table (:func:`mermaid_diagram`) and a test keeps
the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from .orders import OrderStatus

S = OrderStatus


class OrderEvent(StrEnum):
    """What can happen to an order; each one is a row of the transition table."""

    passed_review = "passed_review"
    """Review (or the merchant's approval) sent the order on to sourcing."""
    sourced = "sourced"
    """A sourcing plan was chosen and its charge is next."""
    charged = "charged"
    """The card on file was charged for the plan."""
    all_ordered = "all_ordered"
    """Every purchase order of the plan was accepted by its warehouse."""
    parcel_shipped = "parcel_shipped"
    """A warehouse shipped part of the order."""
    all_shipped = "all_shipped"
    """Every unit has shipped or been cancelled."""
    completed = "completed"
    """Every parcel's tracking is on the channel and nothing is in flight."""
    cancelled = "cancelled"
    """The order ended with nothing shipped: by the merchant, the channel or a policy."""
    held = "held"
    """fbs needs the merchant: a rule, a refusal, a decline or a failure held the order."""
    resumed = "resumed"
    """The merchant approved or retried a held order; it goes back to where it was held."""
    rejected = "rejected"
    """The order can never be fulfilled (bad address, bad lines, unreadable)."""
    modified_upstream = "modified_upstream"
    """The channel changed the order before anything was bought; it is reviewed again."""


class Verdict(StrEnum):
    """Table entries that are not a plain target status."""

    stay = "stay"
    resume = "resume"
    illegal = "illegal"


Outcome = OrderStatus | Verdict

INITIAL = S.received
"""Every order starts here when it is first imported."""

OPEN = (
    S.received,
    S.held,
    S.approved,
    S.sourced,
    S.charged,
    S.ordered,
    S.partially_shipped,
    S.shipped,
)
BEFORE_MONEY = (S.received, S.held, S.approved, S.sourced)
BOUGHT = (S.ordered, S.partially_shipped, S.shipped)
RESUMABLE = (S.approved, S.sourced, S.charged, S.ordered, S.partially_shipped, S.shipped)
"""Statuses a held order may go back to (``held_from``); never ``received``."""


def _rows() -> dict[tuple[OrderStatus, OrderEvent], Outcome]:
    table: dict[tuple[OrderStatus, OrderEvent], Outcome] = {
        (status, event): Verdict.illegal for status in OrderStatus for event in OrderEvent
    }

    def rule(states: Iterable[OrderStatus], event: OrderEvent, outcome: Outcome) -> None:
        for status in states:
            table[(status, event)] = outcome

    rule((S.received, S.held), OrderEvent.passed_review, S.approved)
    rule((S.approved,), OrderEvent.sourced, S.sourced)
    # a re-sourcing after a refusal keeps the order where it stands
    rule((S.charged, *BOUGHT), OrderEvent.sourced, Verdict.stay)
    rule((S.sourced,), OrderEvent.charged, S.charged)
    # a charge whose answer was lost, recorded late: the money is settled by the handler
    rule((S.cancelled, S.held, *BOUGHT), OrderEvent.charged, Verdict.stay)
    rule((S.charged, S.ordered), OrderEvent.all_ordered, S.ordered)
    # an acceptance recorded after the parcels shipped never moves the order backwards
    rule(
        (S.partially_shipped, S.shipped, S.completed, S.held), OrderEvent.all_ordered, Verdict.stay
    )
    rule(
        (S.charged, S.ordered, S.partially_shipped), OrderEvent.parcel_shipped, S.partially_shipped
    )
    rule((S.held, S.shipped, S.completed, S.cancelled), OrderEvent.parcel_shipped, Verdict.stay)
    rule((S.charged, S.ordered, S.partially_shipped), OrderEvent.all_shipped, S.shipped)
    rule((S.held, S.shipped, S.completed), OrderEvent.all_shipped, Verdict.stay)
    rule(BOUGHT, OrderEvent.completed, S.completed)
    # every unit shipped or was cancelled while the order waited (a cancel of the held part)
    rule((S.held,), OrderEvent.completed, S.completed)
    rule((S.completed,), OrderEvent.completed, Verdict.stay)
    rule((*BEFORE_MONEY, S.charged, S.ordered), OrderEvent.cancelled, S.cancelled)
    rule((S.cancelled, S.rejected), OrderEvent.cancelled, Verdict.stay)
    rule(OPEN, OrderEvent.held, S.held)
    # money left standing on an ended order (a refund that failed) needs the merchant too
    rule((S.cancelled,), OrderEvent.held, S.held)
    rule((S.held,), OrderEvent.resumed, Verdict.resume)
    rule((S.received,), OrderEvent.rejected, S.rejected)
    rule((S.rejected,), OrderEvent.rejected, Verdict.stay)
    rule((S.received, S.held, S.approved, S.rejected), OrderEvent.modified_upstream, S.received)
    return table


TRANSITIONS: Mapping[tuple[OrderStatus, OrderEvent], Outcome] = MappingProxyType(_rows())
"""(status, event) → outcome, for every pair."""

RESUME_TARGETS = frozenset({*RESUMABLE, S.cancelled})
"""Where ``resumed`` may lead: back to ``held_from``, which is one of these."""


class IllegalTransition(RuntimeError):
    """An event arrived in a state the table says it never can: a bug in fbs."""


def next_status(
    status: OrderStatus, event: OrderEvent, *, held_from: OrderStatus | None = None
) -> OrderStatus:
    """The status an order in ``status`` moves to on ``event``; raise if that is illegal."""
    outcome = TRANSITIONS[(status, event)]
    if outcome is Verdict.illegal:
        raise IllegalTransition(f"an order that is {status} cannot take the event {event}")
    if outcome is Verdict.stay:
        return status
    if outcome is Verdict.resume:
        if held_from is None or held_from not in RESUME_TARGETS:
            raise IllegalTransition(f"a held order cannot resume to {held_from}")
        return held_from
    return outcome


def mermaid_diagram() -> str:
    """The table's status changes as a Mermaid state diagram (README shows it)."""
    edges: dict[tuple[str, str], list[str]] = {}
    for (status, event), outcome in TRANSITIONS.items():
        if outcome is Verdict.resume:
            for target in sorted(RESUME_TARGETS):
                edges.setdefault((status.value, target.value), []).append(event.value)
        elif isinstance(outcome, OrderStatus) and outcome is not status:
            edges.setdefault((status.value, outcome.value), []).append(event.value)
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL.value}: imported"]
    for (source, target), events in sorted(edges.items()):
        lines.append(f"    {source} --> {target}: {', '.join(sorted(set(events)))}")
    for final in sorted(status.value for status in OrderStatus if status.is_final):
        lines.append(f"    {final} --> [*]")
    return "\n".join(lines)
