"""The shape of an outbox command handler."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ...errors import FatalError
from .. import transitions as t

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ...db.models import OrderRow, OutboxCommandRow
    from ...errors import AdapterError
    from ..context import PipelineContext


AdapterT = TypeVar("AdapterT")


def configured(adapters: Mapping[str, AdapterT], name: str, what: str) -> AdapterT:
    """The adapter a command targets; a fatal error if the merchant removed it from config."""
    adapter = adapters.get(name)
    if adapter is None:
        raise FatalError(f"{what} {name!r} is not configured", code="instance_not_configured")
    return adapter


@dataclass(frozen=True)
class Command:
    """A claimed outbox command, detached from the database."""

    id: int
    kind: str
    target: str
    key: str
    payload: dict[str, Any]
    attempts: int
    order_id: int | None
    owner: str
    created_at: datetime
    """When the command was written: how old its idempotency key is."""
    claim_token: str = ""
    """Unique to this claim: only its holder may record the command's outcome."""


class Handler:
    """Runs one kind of command.

    ``execute`` performs the side effect through a plugin (outside any transaction) and
    returns a JSON-able result; ``apply`` records the result in the transaction that
    marks the command done. ``on_fatal`` and ``on_give_up`` record permanent failure.
    """

    kind = ""

    def execute(self, ctx: PipelineContext, command: Command) -> dict[str, Any]:
        """Perform the side effect; raise an ``AdapterError`` on failure."""
        raise NotImplementedError

    def apply(
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        result: dict[str, Any],
    ) -> None:
        """Record a successful result."""

    def on_fatal(
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: AdapterError,
    ) -> None:
        """Record a permanent failure; the default holds the order with the error's code."""
        if order is not None:
            t.hold(ctx, session, order, error.code, f"{command.target}: {error.message}")

    def on_give_up(
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: str,
    ) -> None:
        """Record that retries ran out; the default holds the order."""
        if order is not None:
            t.hold(
                ctx,
                session,
                order,
                "upstream_unavailable",
                f"{command.target} kept failing after {command.attempts} attempts ({error}). "
                "fbs will try again when you retry the order.",
            )
