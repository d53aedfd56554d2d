"""Polls of channels (new and changed orders) and suppliers (shipments).

A poll runs under a claim (a lease with a token of its own). Whatever happens, the
claim ends recorded: on success the cursor moves and the lease is released; on any
failure, the plugin's or the database's, ``last_error`` says what failed, the lease is
released and the poll is retried after a backoff. A claimer whose lease expired and
was taken over records nothing.
"""

from __future__ import annotations

import logging
import traceback
from datetime import timedelta
from typing import TYPE_CHECKING

from ..db import repository as repo
from ..errors import AdapterError, ConfigError, RetriableError
from ..faults import crashpoint
from . import instance_memory
from .intake import ingest
from .shipments import record_shipments
from .stores import establish as establish_stores

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..adapters import Adapter
    from ..db.models import InstanceStateRow
    from ..domain import OrderBatch, ShipmentBatch
    from .context import PipelineContext

log = logging.getLogger("fbs.poll")


def _interval(ctx: PipelineContext, kind: str, name: str) -> timedelta:
    table = ctx.runtime.settings.channels if kind == "channel" else ctx.runtime.settings.suppliers
    instance = table.get(name)
    return timedelta(seconds=instance.poll_interval if instance else 300)


def _owned_state(
    ctx: PipelineContext, session: Session, kind: str, name: str, token: str
) -> InstanceStateRow | None:
    """The instance's bookkeeping if this claim (``token``) still holds its lease."""
    state = repo.instance_state(session, ctx.merchant_id, kind, name)
    if state is None or state.lease_token != token:
        return None
    return state


def _load(ctx: PipelineContext, kind: str, name: str) -> tuple[str | None, dict[str, str] | None]:
    """The instance's cursor and durable state, as the last successful poll left them."""
    with ctx.db.transaction() as session:
        state = repo.instance_state(session, ctx.merchant_id, kind, name)
        return (state.cursor, state.adapter_state) if state else (None, None)


def _release(
    ctx: PipelineContext,
    state: InstanceStateRow,
    kind: str,
    batch: OrderBatch | ShipmentBatch,
    problems: list[str],
) -> None:
    now = ctx.now()
    if batch.cursor is not None:
        state.cursor = batch.cursor
    if batch.state:
        state.adapter_state = instance_memory.merged(state.adapter_state, batch.state)
    state.lease_owner = None
    state.lease_token = None
    state.lease_until = None
    state.last_polled_at = now
    state.last_error = "; ".join(problems)[:2000] if problems else None
    state.consecutive_failures = 0
    if batch.more:  # part of a backlog: the rest is fetched by the very next poll
        state.next_poll_at = now
    elif state.next_poll_at <= now:  # a webhook may have asked for an earlier poll meanwhile
        state.next_poll_at = now + _interval(ctx, kind, state.name)


def _record_failure(
    ctx: PipelineContext, kind: str, name: str, token: str, error: str, retry_after: float | None
) -> None:
    ctx.backlogged.discard((kind, name))  # a failed poll is retried after its backoff
    with ctx.db.transaction() as session:
        state = _owned_state(ctx, session, kind, name, token)
        if state is None:
            return
        now = ctx.now()
        state.consecutive_failures += 1
        state.last_error = error
        state.lease_owner = None
        state.lease_token = None
        state.lease_until = None
        wait = min(
            _interval(ctx, kind, name).total_seconds(),
            ctx.scheduler.backoff_base_seconds * 2 ** min(state.consecutive_failures, 10),
        )
        if retry_after is not None:
            wait = max(wait, retry_after)
        state.next_poll_at = now + timedelta(seconds=wait)


def _identified(ctx: PipelineContext, name: str, token: str) -> bool:
    """Make sure the channel named its store (its first poll); record why not, if not."""
    if name in ctx.store_identities:
        return True
    try:
        establish_stores(ctx, [name])
    except ConfigError as exc:  # a StoreIdentityError, or a plugin naming no usable store
        log.error("channel %s not polled: %s", name, exc)
        _record_failure(ctx, "channel", name, token, f"store_identity_conflict: {exc}", None)
        return False
    except AdapterError as exc:
        retry_after = exc.retry_after if isinstance(exc, RetriableError) else None
        _record_failure(ctx, "channel", name, token, f"{exc.code}: {exc.message}", retry_after)
        return False
    return True


def poll(ctx: PipelineContext, kind: str, name: str, token: str) -> int:
    """Poll one instance claimed under ``token``; return how many orders or shipments changed."""
    adapters = ctx.runtime.channels if kind == "channel" else ctx.runtime.suppliers
    adapter = adapters[name]
    if kind == "channel" and not _identified(ctx, name, token):
        return 0
    cursor, stored = _load(ctx, kind, name)
    instance_memory.load(adapter, stored)
    redactor = instance_memory.redactor(adapter)
    redactor.pending.clear()
    try:
        if kind == "channel":
            batch = adapter.fetch_orders(cursor)  # type: ignore[union-attr]
        else:
            batch = adapter.fetch_shipments(cursor)  # type: ignore[union-attr]
    except AdapterError as exc:
        retry_after = exc.retry_after if isinstance(exc, RetriableError) else None
        adapter.log.warning("poll failed: %s", exc.message)
        error = _masked(adapter, f"{exc.code}: {exc.message}")
        _record_failure(ctx, kind, name, token, error, retry_after)
        return 0
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the loop
        adapter.log.exception("poll failed in plugin")
        error = f"{type(exc).__name__}: {exc}"
        _record_failure(ctx, kind, name, token, _masked(adapter, error), None)
        return 0
    redactor.pending |= instance_memory.secret_values(adapter, batch.state)
    crashpoint("after_poll_response" if kind == "channel" else "after_shipments_response")
    try:
        return _store(ctx, kind, name, token, batch)
    except Exception as exc:  # noqa: BLE001 - rolled back; the same batch is polled again
        secrets = redactor.pending
        details = instance_memory.redact(traceback.format_exc(), secrets)
        log.error("%s %s: storing the poll failed\n%s", kind, name, details)
        error = instance_memory.redact(f"{type(exc).__name__}: {exc}", secrets)
        _record_failure(ctx, kind, name, token, error, None)
        return 0


def _masked(adapter: Adapter, error: str) -> str:
    """``error`` without the secret values of ``adapter``'s state."""
    return instance_memory.redact(error, instance_memory.secret_values(adapter))


def _store(
    ctx: PipelineContext, kind: str, name: str, token: str, batch: OrderBatch | ShipmentBatch
) -> int:
    """Record a poll's batch and release the claim in one transaction."""
    with ctx.db.transaction() as session:
        state = _owned_state(ctx, session, kind, name, token)
        if state is None:
            return 0  # our lease expired and someone else polls now
        problems: list[str] = []
        if kind == "channel":
            result = ingest(ctx, session, name, batch)  # type: ignore[arg-type]
            changed, problems = result.changed, result.problems
        else:
            outcomes = record_shipments(ctx, session, name, batch.shipments)  # type: ignore[union-attr]
            changed = outcomes["new"]
            if outcomes["unknown_po"]:
                log.warning(
                    "%s reported %d shipment(s) for unknown purchase orders",
                    name,
                    outcomes["unknown_po"],
                )
        _release(ctx, state, kind, batch, problems)
        crashpoint("before_intake_commit")
    if batch.more:
        ctx.backlogged.add((kind, name))
    else:
        ctx.backlogged.discard((kind, name))
    return changed
