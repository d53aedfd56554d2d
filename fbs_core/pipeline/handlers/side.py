"""Commands whose failure never holds an order: channel acknowledgement, notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...db import repository as repo
from ...db.models import TimelineEventRow
from ...errors import AdapterError
from ...hookspecs import NOTIFICATION_HOOKS
from .. import transitions as t
from ..command_payloads import AcknowledgePayload, NotifyPayload
from .base import Command, Handler, configured

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ...db.models import OrderRow, OutboxCommandRow
    from ..context import PipelineContext


class AcknowledgeHandler(Handler):
    """Mark the order as being processed on its channel (e.g. a private order note)."""

    kind = "acknowledge"

    def execute(self, ctx: PipelineContext, command: Command) -> dict[str, Any]:  # noqa: D102
        channel = configured(ctx.runtime.channels, command.target, "channel")
        payload = AcknowledgePayload.read(command.payload)
        channel.acknowledge_order(payload.external_id, payload.message)
        return {}

    def on_fatal(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: AdapterError,
    ) -> None:
        if order is not None:
            t.record(
                ctx, session, order, "acknowledge_failed", f"{command.target}: {error.message}"
            )

    def on_give_up(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: str,
    ) -> None:
        if order is not None:
            t.record(ctx, session, order, "acknowledge_failed", f"{command.target}: {error}")


class NotifyHandler(Handler):
    """Deliver one order event to the plugins that implement its notification hook."""

    kind = "notify"

    def execute(self, ctx: PipelineContext, command: Command) -> dict[str, Any]:  # noqa: D102
        with ctx.db.transaction() as session:
            row = repo.get_order(session, ctx.merchant_id, command.order_id or 0)
            event_row = session.get(TimelineEventRow, NotifyPayload.read(command.payload).event_id)
            if row is None or event_row is None:
                return {}
            order = repo.order_to_domain(row)
            event = repo.event_to_domain(event_row)
        failures = ctx.pm.call_each(NOTIFICATION_HOOKS[command.target], order=order, event=event)
        for failure in failures:  # shown by status displays; never retried or held
            ctx.pm.record(failure)
        return {"failed_plugins": sorted({f.plugin for f in failures})}

    def on_fatal(self, *args: Any) -> None:  # noqa: D102
        return None

    def on_give_up(self, *args: Any) -> None:  # noqa: D102
        return None
