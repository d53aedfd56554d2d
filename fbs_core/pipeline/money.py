"""Money arithmetic for charges and refunds: tax shares and refundable amounts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..db import repository as repo
from ..db.models import RefundRow
from . import transitions as t
from .command_payloads import RefundPayload
from .context import PipelineContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..db.models import ChargeRow, OrderRow, PurchaseOrderRow


IDEMPOTENCY_WINDOW = timedelta(hours=23)
"""Retries younger than this rely on the gateway's key replay (Stripe keeps keys 24 h).

An older retry first asks the gateway whether the effect already happened
(``find_charge`` / ``find_refund``), because the gateway may have forgotten the key.
"""


def past_key_window(ctx: PipelineContext, first_sent: datetime) -> bool:
    """Whether a command first written at ``first_sent`` may outlive the gateway's key."""
    return ctx.now() - first_sent > IDEMPOTENCY_WINDOW


def window_hours() -> str:
    """The window in whole hours, for messages."""
    return f"{IDEMPOTENCY_WINDOW.total_seconds() / 3600:.0f}"


def split_proportionally(total_cents: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_cents`` by ``weights`` so the parts add up exactly (last takes the rest)."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [total_cents] + [0] * (len(weights) - 1)
    shares = [total_cents * weight // weight_sum for weight in weights[:-1]]
    return [*shares, total_cents - sum(shares)]


def goods_cents(po: PurchaseOrderRow, quantities: dict[str, int] | None = None) -> int:
    """Parts plus cores of a purchase order, or of ``quantities`` (sku → qty) of it."""
    total = 0
    for line in po.lines:
        qty = line.quantity if quantities is None else quantities.get(line.sku, 0)
        total += (line.unit_cost_cents + line.core_charge_cents) * qty
    return total


def cores_cents(po: PurchaseOrderRow, quantities: dict[str, int] | None = None) -> int:
    """Core charges alone, for the same selection as :func:`goods_cents`."""
    total = 0
    for line in po.lines:
        qty = line.quantity if quantities is None else quantities.get(line.sku, 0)
        total += line.core_charge_cents * qty
    return total


def refundable_cents(session: Session, charge: ChargeRow) -> int:
    """What is left of a charge after every refund already asked for."""
    return max(charge.amount_cents - repo.refund_asked_cents(session, charge.id), 0)


def enqueue_refund(
    ctx: PipelineContext,
    session: Session,
    order: OrderRow,
    *,
    key: str,
    amount_cents: int,
    core_charges_cents: int,
    reason: str,
    charge: ChargeRow | None = None,
) -> RefundRow | None:
    """Write a refund and its outbox command, capped at what remains of the charge.

    The refund goes to ``charge``, by default the order's charge that succeeded.
    """
    charge = charge if charge is not None else repo.succeeded_charge(session, order.id)
    if (
        charge is None
        or charge.status != "succeeded"
        or repo.refund_by_key(session, ctx.merchant_id, key) is not None
    ):
        return None
    amount = min(amount_cents, refundable_cents(session, charge))
    if amount <= 0:
        return None
    refund = RefundRow(
        merchant_id=ctx.merchant_id,
        order_id=order.id,
        charge_id=charge.id,
        idempotency_key=key,
        status="pending",
        currency=charge.currency,
        amount_cents=amount,
        core_charges_cents=min(core_charges_cents, amount),
        reason=reason,
        created_at=ctx.now(),
    )
    session.add(refund)
    t.enqueue(
        ctx,
        session,
        order,
        target=charge.gateway,
        key=key,
        payload=RefundPayload(
            order_id=order.id,
            charge_reference=charge.reference or "",
            amount_cents=amount,
            currency=charge.currency,
            reason=reason,
        ),
    )
    return refund
