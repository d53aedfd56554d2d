"""Carry out a channel's privacy request: erase a buyer's personal data, or report it.

Erasure blanks the fields that identify a person (name, company, street, city, phone,
e-mail) on the order and on every outbound command that copied them, and keeps what the
money records need: the state, ZIP and country that decided the tax and the warehouse,
the lines, the charges, refunds and purchase orders. Each erased order says so on its
timeline; a second request for the same buyer changes nothing more.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..db import repository as repo
from ..db.models import OrderRow, OutboxCommandRow
from ..domain.privacy import PrivacyAction, PrivacyRequest
from . import transitions as t
from .context import PipelineContext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger("fbs.privacy")

PERSONAL_FIELDS = ("name", "company", "line1", "line2", "city", "phone", "email")
"""Ship-to fields that identify a person; region, postal code and country stay for tax."""
ERASED = "[erased]"


@dataclass(frozen=True)
class PrivacyOutcome:
    """What a request did: the orders it covered and, for a report, what fbs holds."""

    orders: int
    report: list[dict[str, Any]]


def apply_privacy_request(ctx: PipelineContext, request: PrivacyRequest) -> PrivacyOutcome:
    """Erase or report the orders ``request`` covers, in one transaction under row locks."""
    with ctx.db.transaction() as session:
        rows = _covered_orders(session, ctx.merchant_id, request)
        if request.action is PrivacyAction.report:
            report = [_held_about(row) for row in rows]
            log.info(
                "privacy data request (%s) for store %s: %s",
                request.origin or "channel",
                request.store_identity,
                json.dumps(report, default=str, sort_keys=True),
            )
            return PrivacyOutcome(orders=len(rows), report=report)
        erased = sum(_erase(ctx, session, row, request) for row in rows)
    log.info(
        "privacy erasure (%s) for store %s: %d order(s) erased",
        request.origin or "channel",
        request.store_identity,
        erased,
    )
    return PrivacyOutcome(orders=erased, report=[])


def _covered_orders(session: Session, merchant_id: str, request: PrivacyRequest) -> list[OrderRow]:
    query = (
        select(OrderRow)
        .where(OrderRow.merchant_id == merchant_id)
        .where(OrderRow.store_identity == request.store_identity)
        .order_by(OrderRow.id)
    )
    if request.whole_store:
        return list(session.scalars(query.with_for_update()))
    if request.external_ids:
        by_id = query.where(OrderRow.external_id.in_(request.external_ids))
        chosen = {row.id for row in session.scalars(by_id)}
    else:
        chosen = set()
    if request.email or request.channel_reference:
        # JSON columns are matched in Python: the shapes differ between SQLite and PostgreSQL.
        for row in session.scalars(query):
            if _matches(row, request):
                chosen.add(row.id)
    return list(repo.lock_orders(session, merchant_id, sorted(chosen)).values())


def _matches(row: OrderRow, request: PrivacyRequest) -> bool:
    email = (row.ship_to or {}).get("email")
    if request.email and email and email.strip().lower() == request.email.strip().lower():
        return True
    if request.channel_reference:
        key, value = request.channel_reference
        return (row.channel_data or {}).get(key) == value
    return False


def _held_about(row: OrderRow) -> dict[str, Any]:
    return {
        "order": row.number,
        "external_id": row.external_id,
        "placed_at": row.placed_at.isoformat(),
        "status": row.status,
        "ship_to": row.ship_to,
        "lines": [
            {"sku": line.sku, "quantity": line.quantity, "title": line.title} for line in row.lines
        ],
    }


def _erase(ctx: PipelineContext, session: Session, row: OrderRow, request: PrivacyRequest) -> bool:
    """Blank one order's personal data and its commands' copies; False if already blank."""
    changed = False
    if row.ship_to:
        scrubbed = scrub_address(row.ship_to)
        if scrubbed != row.ship_to:
            row.ship_to = scrubbed
            changed = True
    if request.channel_reference:
        key, value = request.channel_reference
        if (row.channel_data or {}).get(key) == value:
            row.channel_data = {**row.channel_data, key: ERASED}
            changed = True
    for command in _commands_with_address(session, row.id):
        command.payload = {**command.payload, "ship_to": scrub_address(command.payload["ship_to"])}
        changed = True
    if changed:
        t.record(
            ctx,
            session,
            row,
            "personal_data_erased",
            "The buyer's name, address, e-mail and phone were erased at the channel's "
            f"request ({request.origin or 'privacy request'}); money records are kept.",
            actor="privacy",
        )
    return changed


def _commands_with_address(session: Session, order_id: int) -> Sequence[OutboxCommandRow]:
    commands = session.scalars(
        select(OutboxCommandRow).where(OutboxCommandRow.order_id == order_id)
    )
    return [
        command
        for command in commands
        if isinstance(command.payload.get("ship_to"), dict)
        and scrub_address(command.payload["ship_to"]) != command.payload["ship_to"]
    ]


def scrub_address(address: dict[str, Any]) -> dict[str, Any]:
    """``address`` with its personal fields blanked (None stays None)."""
    return {
        key: (ERASED if key in PERSONAL_FIELDS and value else value)
        for key, value in address.items()
    }
