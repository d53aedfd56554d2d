"""The ``charge`` command: charge the merchant's card once for an order's plan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...db import repository as repo
from ...db.models import ChargeRow
from ...domain import ChargeBreakdown, ChargeRequest, Money, OrderStatus, SourcingPlan
from ...errors import AdapterError, FatalError
from .. import identifiers
from .. import transitions as t
from ..command_payloads import ChargePayload
from ..money import enqueue_refund, past_key_window, refundable_cents, window_hours
from ..progress import finish_cancellation_if_settled
from .base import Command, Handler, configured
from .purchasing import create_purchase_orders

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ...db.models import OrderRow, OutboxCommandRow, SourcingPlanRow
    from ..context import PipelineContext


def payment_gateway_name(ctx: PipelineContext) -> str | None:
    """The payment instance that charges, or None when none is configured.

    ``[fulfillment] payment_gateway`` names it; without the setting the one enabled
    instance charges (startup refuses several without a choice).
    """
    chosen = ctx.runtime.settings.fulfillment.payment_gateway
    if chosen is not None:
        return chosen if chosen in ctx.runtime.payments else None
    names = list(ctx.runtime.payments)
    return names[0] if len(names) == 1 else None


def enqueue_charge(
    ctx: PipelineContext, session: Session, order: OrderRow, plan_row: SourcingPlanRow
) -> None:
    """Write a pending charge for the plan and the command that performs it.

    The key carries a generation: a retry after a decline is a new charge attempt
    (the gateway remembers the declined key), while a crash-retry reuses the same key.
    """
    gateway = payment_gateway_name(ctx)
    if gateway is None:
        t.hold(
            ctx,
            session,
            order,
            "no_payment_gateway",
            "No payment gateway is configured in [payments], or several are and "
            "[fulfillment] payment_gateway does not name one of them.",
        )
        return
    order.charge_generation += 1
    key = identifiers.charge_key(ctx, order, order.charge_generation)
    currency = plan_row.currency
    session.add(
        ChargeRow(
            merchant_id=ctx.merchant_id,
            order_id=order.id,
            idempotency_key=key,
            gateway=gateway,
            status="pending",
            currency=currency,
            amount_cents=plan_row.total_cents,
            parts_cents=plan_row.parts_cents,
            core_charges_cents=plan_row.core_charges_cents,
            shipping_cents=plan_row.shipping_cents,
            tax_cents=plan_row.tax_cents,
            created_at=ctx.now(),
            updated_at=ctx.now(),
        )
    )
    t.enqueue(
        ctx,
        session,
        order,
        target=gateway,
        key=key,
        payload=ChargePayload(
            order_id=order.id,
            order_reference=order.number,
            currency=currency,
            amount_cents=plan_row.total_cents,
            parts_cents=plan_row.parts_cents,
            core_charges_cents=plan_row.core_charges_cents,
            shipping_cents=plan_row.shipping_cents,
            tax_cents=plan_row.tax_cents,
        ),
    )


class ChargeHandler(Handler):
    """Charge the card on file; on success create the purchase orders."""

    kind = "charge"

    def execute(self, ctx: PipelineContext, command: Command) -> dict[str, Any]:  # noqa: D102
        gateway = configured(ctx.runtime.payments, command.target, "payment instance")
        p = ChargePayload.read(command.payload)

        def money(cents: int) -> Money:
            return Money(cents=cents, currency=p.currency)

        request = ChargeRequest(
            idempotency_key=command.key,
            order_id=p.order_id,
            order_reference=p.order_reference,
            amount=money(p.amount_cents),
            breakdown=ChargeBreakdown(
                parts=money(p.parts_cents),
                core_charges=money(p.core_charges_cents),
                shipping=money(p.shipping_cents),
                tax=money(p.tax_cents),
            ),
            description=f"Parts for order {p.order_reference}",
            metadata={"merchant_id": ctx.merchant_id},
        )
        if past_key_window(ctx, command.created_at):
            # The gateway may have forgotten this key: ask whether it charged before,
            # so a late retry can never charge the card a second time.
            try:
                earlier = gateway.find_charge(request)
            except NotImplementedError:
                raise FatalError(
                    f"The charge for order {p.order_reference} was sent more than "
                    f"{window_hours()} h ago without an answer, and "
                    f"{command.target} cannot look it up. Check the payment in its dashboard, "
                    "then cancel or retry the order.",
                    code="charge_outcome_unknown",
                ) from None
            if earlier is not None:
                return {"reference": earlier.reference, "amount_cents": earlier.amount.cents}
        result = gateway.charge(request)
        return {"reference": result.reference, "amount_cents": result.amount.cents}

    def apply(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        result: dict[str, Any],
    ) -> None:
        charge = repo.charge_by_key(session, ctx.merchant_id, command.idempotency_key)
        if charge is None or order is None or charge.status == "succeeded":
            return
        charge.status = "succeeded"
        charge.reference = result["reference"]
        charge.updated_at = ctx.now()
        amount = Money(cents=charge.amount_cents, currency=charge.currency)
        if order.cancel_requested:
            t.record(
                ctx,
                session,
                order,
                "charged",
                f"Charged {amount}; refunding because the order was cancelled.",
            )
            _refund_whole(ctx, session, order, charge, "Order cancelled before any purchase "
                          "order was sent.")  # fmt: skip
            finish_cancellation_if_settled(ctx, session, order)
            return
        if not _expects_charge(session, order, charge):
            # The order moved on while the gateway charged (cancelled, held, or paid by
            # another charge): the money goes back and the order stays where it is.
            t.record(
                ctx,
                session,
                order,
                "late_charge",
                f"Charged {amount} after the order was {order.status}; refunding it.",
                data={"amount_cents": charge.amount_cents, "reference": charge.reference},
            )
            _refund_whole(ctx, session, order, charge, f"Charge {charge.reference} arrived "
                          f"after the order was {order.status}.")  # fmt: skip
            return
        t.set_status(
            ctx,
            session,
            order,
            OrderStatus.charged,
            f"Charged {amount} to the card on file.",
            data={"amount_cents": charge.amount_cents, "reference": charge.reference},
        )
        plan_row = repo.active_plan(session, order.id)
        if plan_row is None:
            return
        plan = SourcingPlan.model_validate(plan_row.plan)
        create_purchase_orders(ctx, session, order, plan.legs, tax_cents=plan_row.tax_cents)

    def on_fatal(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: AdapterError,
    ) -> None:
        charge = repo.charge_by_key(session, ctx.merchant_id, command.idempotency_key)
        if charge is not None:
            charge.status = "failed"
            charge.error = f"{error.code}: {error.message}"
            charge.updated_at = ctx.now()
        if order is None:
            return
        if order.cancel_requested:
            finish_cancellation_if_settled(ctx, session, order)
            return
        if order.status != OrderStatus.sourced:
            t.record(
                ctx,
                session,
                order,
                "charge_failed",
                f"The charge failed after the order was {order.status}: {error.message}",
                data={"reason": error.code},
            )
            return
        t.hold(ctx, session, order, error.code, error.message)

    def on_give_up(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: str,
    ) -> None:
        # The charge may or may not have happened; it stays pending and a retry
        # reuses the same key, so the gateway answers with the first outcome.
        if order is not None and order.status != OrderStatus.sourced:
            t.record(
                ctx,
                session,
                order,
                "charge_unanswered",
                f"{command.target} never answered the charge sent while the order was "
                f"sourced ({error}); it is now {order.status} and stays so. Run "
                "`fbs orders retry` to ask again: a charge that was taken is then refunded.",
            )
            return
        super().on_give_up(ctx, session, command, order, error)


def _expects_charge(session: Session, order: OrderRow, charge: ChargeRow) -> bool:
    """Whether ``charge`` is the one payment the order is waiting for.

    Only a ``sourced`` order waits for a charge, and only while no other charge of it
    stands (took money that is not being given back).
    """
    if order.status != OrderStatus.sourced:
        return False
    return not any(
        other.status == "succeeded" and other.id != charge.id and refundable_cents(session, other)
        for other in repo.charges_for(session, order.id)
    )


def _refund_whole(
    ctx: PipelineContext, session: Session, order: OrderRow, charge: ChargeRow, reason: str
) -> None:
    """Give back all of ``charge``, keyed by the charge so it is asked for once."""
    enqueue_refund(
        ctx,
        session,
        order,
        key=f"refund:{charge.idempotency_key}",
        amount_cents=charge.amount_cents,
        core_charges_cents=charge.core_charges_cents,
        reason=reason,
        charge=charge,
    )
