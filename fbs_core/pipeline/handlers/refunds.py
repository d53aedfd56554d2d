"""The ``refund`` command: give money back on the merchant's charge."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...db import repository as repo
from ...domain import Money, RefundRequest
from ...errors import AdapterError, FatalError
from .. import transitions as t
from ..command_payloads import RefundPayload
from ..money import past_key_window, window_hours
from .base import Command, Handler, configured

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ...db.models import OrderRow, OutboxCommandRow
    from ..context import PipelineContext


RETRY_ADVICE = "Retry the order to try again."


class RefundHandler(Handler):
    """Refund once per key; a failure is recorded on the order, which stays as it is."""

    kind = "refund"

    def execute(self, ctx: PipelineContext, command: Command) -> dict[str, Any]:  # noqa: D102
        gateway = configured(ctx.runtime.payments, command.target, "payment instance")
        p = RefundPayload.read(command.payload)
        request = RefundRequest(
            idempotency_key=command.key,
            order_id=p.order_id,
            charge_reference=p.charge_reference,
            amount=Money(cents=p.amount_cents, currency=p.currency),
            reason=p.reason,
            metadata={"merchant_id": ctx.merchant_id},
        )
        if past_key_window(ctx, command.created_at):
            # The gateway may have forgotten this key: ask whether it refunded before,
            # so a late retry can never pay the same refund twice.
            try:
                earlier = gateway.find_refund(request)
            except NotImplementedError:
                raise FatalError(
                    f"The refund of {request.amount} on {request.charge_reference} was sent "
                    f"more than {window_hours()} h ago without an answer, and "
                    f"{command.target} cannot look it up. Check the refund in its dashboard "
                    "before retrying the order, or it may be paid twice.",
                    code="refund_outcome_unknown",
                ) from None
            if earlier is not None:
                return {"reference": earlier.reference, "amount_cents": earlier.amount.cents}
        result = gateway.refund(request)
        return {"reference": result.reference, "amount_cents": result.amount.cents}

    def apply(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        result: dict[str, Any],
    ) -> None:
        refund = repo.refund_by_key(session, ctx.merchant_id, command.idempotency_key)
        if refund is None or order is None or refund.status == "succeeded":
            return
        refund.status = "succeeded"
        refund.reference = result["reference"]
        charge = next(c for c in repo.charges_for(session, order.id) if c.id == refund.charge_id)
        charge.refunded_cents += refund.amount_cents
        charge.updated_at = ctx.now()
        amount = Money(cents=refund.amount_cents, currency=refund.currency)
        t.record(
            ctx,
            session,
            order,
            "refunded",
            f"Refunded {amount}: {refund.reason}",
            data={"amount_cents": refund.amount_cents, "reference": refund.reference},
        )

    def on_fatal(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: AdapterError,
    ) -> None:
        # An unknown outcome already says to check the dashboard before any retry.
        advice = "" if error.code == "refund_outcome_unknown" else RETRY_ADVICE
        self._failed(ctx, session, command, order, f"{error.code}: {error.message}", advice)

    def on_give_up(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: str,
    ) -> None:
        self._failed(ctx, session, command, order, error, RETRY_ADVICE)

    def _failed(
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        why: str,
        advice: str,
    ) -> None:
        refund = repo.refund_by_key(session, ctx.merchant_id, command.idempotency_key)
        if refund is not None:
            refund.status = "failed"
        if order is not None:
            t.record(
                ctx,
                session,
                order,
                "refund_failed",
                f"Refund {command.idempotency_key} failed: {why.rstrip('.')}. {advice}".strip(),
            )
