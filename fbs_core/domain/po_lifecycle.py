"""The purchase-order state machine: what each event may do to a PO in each status.

A PO's status changes only through :func:`next_po_status`. For each pair of a status and
an event the table holds the statuses the PO may move to:

* one status: the PO moves there (its own status: the event can really arrive then, e.g.
  an acceptance recorded after the parcel shipped, and changes nothing);
* several: the event's outcome is read from the PO's lines (a parcel leaves it partly or
  wholly shipped; a cancel answer stops all, some or none of it) and must be one of them;
* none: the pair cannot happen unless fbs has a bug; it raises.

A parcel is a fact: whatever fbs believed of the PO, a parcel the warehouse reports moves
it to (partially) shipped. README's diagram is drawn from this table and a test keeps the
two equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType

from .purchasing import PurchaseOrderStatus

P = PurchaseOrderStatus


class PurchaseOrderEvent(StrEnum):
    """What can happen to a purchase order; each one is a row of the table."""

    accepted = "accepted"
    """The warehouse accepted it (possibly recorded late, after it shipped)."""
    refused = "refused"
    """The warehouse refused it for good (no stock, an invalid request)."""
    replaced = "replaced"
    """After a refusal, its parts were bought elsewhere by a new purchase order."""
    voided = "voided"
    """The order was cancelled before this PO reached the warehouse."""
    cancel_asked = "cancel_asked"
    """The warehouse is asked to stop the whole PO."""
    cancel_answered = "cancel_answered"
    """The warehouse said what it stopped (all, some or none of the PO)."""
    parcel_recorded = "parcel_recorded"
    """The warehouse shipped a parcel of it."""


INITIAL = P.pending
"""Every purchase order is written pending, with the command that sends it."""

AFTER_CANCEL = frozenset({P.cancelled, P.shipped, P.partially_shipped, P.placed})
AFTER_PARCEL = frozenset({P.partially_shipped, P.shipped})


def _rows() -> dict[tuple[PurchaseOrderStatus, PurchaseOrderEvent], frozenset[P]]:
    table: dict[tuple[PurchaseOrderStatus, PurchaseOrderEvent], frozenset[P]] = {
        (status, event): frozenset() for status in P for event in PurchaseOrderEvent
    }

    def rule(
        states: Iterable[PurchaseOrderStatus],
        event: PurchaseOrderEvent,
        targets: Iterable[PurchaseOrderStatus] | None = None,
    ) -> None:
        """``targets`` None: the event leaves each of ``states`` as it is."""
        for status in states:
            table[(status, event)] = frozenset(targets if targets is not None else (status,))

    # a PO that failed and was sent again (the merchant retried) is accepted now
    rule((P.pending, P.failed), PurchaseOrderEvent.accepted, (P.placed,))
    # an acceptance recorded late never moves a PO backwards
    rule(
        (P.placed, P.partially_shipped, P.shipped, P.cancel_requested, P.cancelled, P.replaced),
        PurchaseOrderEvent.accepted,
    )
    rule((P.pending,), PurchaseOrderEvent.refused, (P.failed,))
    rule((P.failed, P.cancelled), PurchaseOrderEvent.refused)
    rule((P.failed,), PurchaseOrderEvent.replaced, (P.replaced,))
    rule((P.pending, P.failed), PurchaseOrderEvent.voided, (P.cancelled,))
    rule((P.cancelled,), PurchaseOrderEvent.voided)
    rule((P.placed, P.partially_shipped), PurchaseOrderEvent.cancel_asked, (P.cancel_requested,))
    rule((P.cancel_requested,), PurchaseOrderEvent.cancel_asked)
    rule(
        (P.placed, P.partially_shipped, P.shipped, P.cancel_requested, P.cancelled),
        PurchaseOrderEvent.cancel_answered,
        AFTER_CANCEL,
    )
    rule(P, PurchaseOrderEvent.parcel_recorded, AFTER_PARCEL)
    return table


TRANSITIONS: Mapping[tuple[PurchaseOrderStatus, PurchaseOrderEvent], frozenset[P]] = (
    MappingProxyType(_rows())
)
"""(status, event) → the statuses the PO may move to; empty where it cannot happen."""


class IllegalPurchaseOrderTransition(RuntimeError):
    """An event arrived in a state the table says it never can: a bug in fbs."""


def next_po_status(
    status: PurchaseOrderStatus,
    event: PurchaseOrderEvent,
    outcome: PurchaseOrderStatus | None = None,
) -> PurchaseOrderStatus:
    """Where a PO in ``status`` goes on ``event``.

    ``outcome`` is what the PO's lines say (for a parcel or a cancel answer); it must be
    one of the table's targets. Without it the table must name exactly one.
    """
    targets = TRANSITIONS[(status, event)]
    if outcome is None:
        if len(targets) != 1:
            raise IllegalPurchaseOrderTransition(
                f"a purchase order that is {status} cannot take the event {event}"
                + (" without its outcome" if targets else "")
            )
        return next(iter(targets))
    if outcome not in targets:
        raise IllegalPurchaseOrderTransition(
            f"a purchase order that is {status} cannot become {outcome} on {event}"
        )
    return outcome


def po_mermaid_diagram() -> str:
    """The table's status changes as a Mermaid state diagram (README shows it)."""
    edges: dict[tuple[str, str], list[str]] = {}
    for (status, event), targets in TRANSITIONS.items():
        for target in targets:
            if target is not status:
                edges.setdefault((status.value, target.value), []).append(event.value)
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL.value}: planned"]
    for (source, target), events in sorted(edges.items()):
        lines.append(f"    {source} --> {target}: {', '.join(sorted(set(events)))}")
    return "\n".join(lines)
