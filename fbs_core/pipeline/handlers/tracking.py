"""The ``push_tracking`` command: write a parcel's tracking to the buyer's order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...adapters import TrackingSink
from ...db import repository as repo
from ...errors import AdapterError, FatalError
from .. import transitions as t
from ..command_payloads import PushTrackingPayload
from ..progress import maybe_complete
from .base import Command, Handler

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ...db.models import OrderRow, OutboxCommandRow
    from ..context import PipelineContext


def sink_for(ctx: PipelineContext, target: str) -> TrackingSink | None:
    """The channel (if it writes tracking) or ``[tracking]`` instance named ``target``."""
    channel = ctx.runtime.channels.get(target)
    if isinstance(channel, TrackingSink):
        return channel
    return ctx.runtime.tracking.get(target)


class PushTrackingHandler(Handler):
    """Write tracking once; the channel's own copy marks the shipment as pushed."""

    kind = "push_tracking"

    def execute(self, ctx: PipelineContext, command: Command) -> dict[str, Any]:  # noqa: D102
        sink = sink_for(ctx, command.target)
        if sink is None and command.target not in ctx.runtime.channels:
            raise FatalError(
                f"channel {command.target!r} is not configured; add it back (or the instance "
                "now reading its store) and retry the order",
                code="instance_not_configured",
            )
        if sink is None:
            raise FatalError(f"{command.target!r} cannot receive tracking", code="no_tracking_sink")
        push = PushTrackingPayload.read(command.payload).push
        result = sink.push_tracking(push)
        return {"reference": result.reference, "already_present": result.already_present}

    def apply(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        result: dict[str, Any],
    ) -> None:
        if order is None:
            return
        payload = PushTrackingPayload.read(command.payload)
        push = payload.push
        if command.target == order.channel:
            for shipment in repo.shipments_for(session, order.id):
                if shipment.id == payload.shipment_row_id:
                    shipment.tracking_pushed = True
        note = " (it was already there)" if result.get("already_present") else ""
        t.record(
            ctx,
            session,
            order,
            "tracking_pushed",
            f"Tracking {push.carrier} {push.tracking_number} written to {command.target}{note}.",
            data={"reference": result.get("reference")},
        )
        maybe_complete(ctx, session, order)

    def on_fatal(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: AdapterError,
    ) -> None:
        if order is not None:
            t.hold(
                ctx,
                session,
                order,
                error.code,
                f"Could not write tracking to {command.target}: {error.message}",
            )
