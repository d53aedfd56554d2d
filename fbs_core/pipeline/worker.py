"""Claim due outbox commands and carry them out with retries and backoff."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..db import repository as repo
from ..db.models import OutboxCommandRow
from ..errors import AdapterError, FatalError, RetriableError
from ..faults import crashpoint
from .handlers import HANDLERS, Command

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from .context import PipelineContext

log = logging.getLogger("fbs.worker")

ANY_PROCESS_KINDS = frozenset({"source", "notify"})
"""Commands that talk to no one instance: run by any process that has the order's channel."""


def configured_targets(ctx: PipelineContext) -> set[str]:
    """The instances this process has configured: the only targets it takes commands for."""
    runtime = ctx.runtime
    return {*runtime.channels, *runtime.suppliers, *runtime.payments, *runtime.tracking}


def configured_instances(ctx: PipelineContext) -> set[tuple[str, str]]:
    """``(kind, name)`` of every instance this process has, for its heartbeat."""
    runtime = ctx.runtime
    return {
        *(("channel", name) for name in runtime.channels),
        *(("supplier", name) for name in runtime.suppliers),
        *(("payment", name) for name in runtime.payments),
        *(("tracking", name) for name in runtime.tracking),
    }


def heartbeat(ctx: PipelineContext) -> None:
    """Tell other processes sharing the merchant which instances this one has."""
    with ctx.db.transaction() as session:
        repo.beat(session, ctx.merchant_id, configured_instances(ctx), ctx.now())


def claim(ctx: PipelineContext, owner: str, limit: int) -> list[Command]:
    """Lease up to ``limit`` due commands to ``owner`` and return detached copies.

    Only commands for instances this process has configured are taken, so processes
    sharing a merchant with different instances never take each other's work; and
    commands for an instance no process has had for a lease period (removed from every
    config), which the handler then holds ``instance_not_configured``.
    """
    lease = timedelta(seconds=ctx.scheduler.lease_seconds)
    with ctx.db.transaction() as session:
        rows = repo.claim_commands(
            session,
            ctx.merchant_id,
            owner,
            ctx.now(),
            lease,
            limit,
            targets=configured_targets(ctx),
            channels=set(ctx.runtime.channels),
            any_target_kinds=ANY_PROCESS_KINDS,
            abandoned_before=ctx.now() - lease,
        )
        return [
            Command(
                id=row.id,
                kind=row.kind,
                target=row.target,
                key=row.idempotency_key,
                payload=dict(row.payload),
                attempts=row.attempts,
                order_id=row.order_id,
                owner=owner,
                created_at=row.created_at,
                claim_token=row.lease_token or "",
            )
            for row in rows
        ]


def backoff(ctx: PipelineContext, attempts: int, retry_after: float | None) -> timedelta:
    """Exponential backoff with jitter, never shorter than the remote's Retry-After."""
    settings = ctx.scheduler
    delay = min(
        settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** max(attempts - 1, 0)
    )
    delay *= random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return timedelta(seconds=delay)


@dataclass(frozen=True)
class Performed:
    """A command whose side effect succeeded and whose result awaits recording."""

    command: Command
    result: dict[str, Any]


def perform(ctx: PipelineContext, command: Command) -> Performed | str:
    """Carry out a claimed command's side effect.

    A failure is recorded at once (retry with backoff, or the handler's fatal path) and
    its outcome returned: ``retry``, ``failed`` or ``superseded``. A success is returned
    for :func:`record` to store.
    """
    handler = HANDLERS[command.kind]
    crashpoint("after_claim")
    try:
        result = handler.execute(ctx, command)
    except FatalError as exc:
        return _finish_failed(ctx, command, exc)
    except RetriableError as exc:
        return _retry(ctx, command, f"{exc.code}: {exc.message}", exc.retry_after)
    except AdapterError as exc:
        return _retry(ctx, command, f"{exc.code}: {exc.message}", None)
    except Exception as exc:  # noqa: BLE001 - a plugin bug is retried, then held
        log.exception("%s %s failed in plugin %s", command.kind, command.key, command.target)
        return _retry(ctx, command, f"{type(exc).__name__}: {exc}", None)
    crashpoint("after_effect")
    return Performed(command, result)


def record(ctx: PipelineContext, performed: Sequence[Performed]) -> int:
    """Record successful results and the state changes they cause; return how many.

    A batch is one transaction (ordered by order id, so concurrent batches lock orders
    in the same order). If anything in it fails, each result is recorded on its own, so
    one bad result never holds back the others.
    """
    ordered = sorted(performed, key=lambda p: (p.command.order_id or 0, p.command.id))
    try:
        with ctx.db.transaction() as session:
            commands = repo.lock_commands(session, [item.command.id for item in ordered])
            order_ids = [item.command.order_id for item in ordered if item.command.order_id]
            orders = repo.lock_orders(session, ctx.merchant_id, order_ids)
            recorded = 0
            for item in ordered:
                row = commands.get(item.command.id)
                if not _holds_lease(row, item.command):
                    continue  # our lease expired; whoever holds it now records the same result
                row.status = "done"
                row.result = item.result
                row.lease_until = None
                row.lease_token = None
                row.last_error = None
                row.updated_at = ctx.now()
                order = orders.get(row.order_id) if row.order_id else None
                HANDLERS[row.kind].apply(ctx, session, row, order, item.result)
                recorded += 1
            crashpoint("before_apply_commit")
    except Exception:
        if len(ordered) == 1:
            raise
        log.warning(
            "recording %d results together failed; recording each alone",
            len(ordered),
            exc_info=True,
        )
        return sum(record(ctx, [item]) for item in ordered)
    crashpoint("after_apply_commit")
    return recorded


def run_command(ctx: PipelineContext, command: Command) -> str:
    """Perform and record one command; return ``done``, ``retry``, ``failed`` or ``superseded``."""
    outcome = perform(ctx, command)
    if isinstance(outcome, str):
        return outcome
    return "done" if record(ctx, [outcome]) else "superseded"


def _holds_lease(row: OutboxCommandRow | None, command: Command) -> bool:
    """Whether ``command`` is still running under this claim's lease (its token).

    A claimer whose lease expired and was taken over holds a stale token: whoever
    claimed the command since records its outcome, never both.
    """
    return (
        row is not None
        and row.status == "running"
        and bool(command.claim_token)
        and row.lease_token == command.claim_token
    )


def _owned(session: Session, command: Command) -> OutboxCommandRow | None:
    """The command row, locked, if this worker still holds its lease, else None."""
    row = repo.lock_commands(session, [command.id]).get(command.id)
    return row if _holds_lease(row, command) else None


def _retry(ctx: PipelineContext, command: Command, error: str, retry_after: float | None) -> str:
    with ctx.db.transaction() as session:
        row = _owned(session, command)
        if row is None:
            return "superseded"
        row.last_error = error
        row.lease_until = None
        row.lease_token = None
        row.updated_at = ctx.now()
        if row.attempts < ctx.scheduler.max_attempts:
            row.status = "pending"
            row.next_attempt_at = ctx.now() + backoff(ctx, row.attempts, retry_after)
            return "retry"
        row.status = "failed"
        order = (
            repo.get_order(session, ctx.merchant_id, row.order_id, lock=True)
            if row.order_id
            else None
        )
        HANDLERS[row.kind].on_give_up(ctx, session, row, order, error)
        return "failed"


def _finish_failed(ctx: PipelineContext, command: Command, error: FatalError) -> str:
    with ctx.db.transaction() as session:
        row = _owned(session, command)
        if row is None:
            return "superseded"
        row.status = "failed"
        row.last_error = f"{error.code}: {error.message}"
        row.lease_until = None
        row.lease_token = None
        row.updated_at = ctx.now()
        order = (
            repo.get_order(session, ctx.merchant_id, row.order_id, lock=True)
            if row.order_id
            else None
        )
        HANDLERS[row.kind].on_fatal(ctx, session, row, order, error)
        return "failed"
