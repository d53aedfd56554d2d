"""The numbers and keys fbs sends out: PO numbers and idempotency keys.

Each carries the merchant's installation id (random, made once per database), so a new
database (a reset, a move from SQLite to PostgreSQL) whose order ids start again at 1
never sends a warehouse or a payment gateway a number it already took for another order.

A PO number is ``<MERCHANT>-<INSTALLATION>-<order id>-<sequence>``: with a merchant id of
at most 32 characters and an 8-character installation id it stays within the 64
characters the warehouse API allows, up to the largest 64-bit order id.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from ..db import repository as repo
from ..db.types import utcnow

if TYPE_CHECKING:
    from ..db import Database
    from ..db.models import OrderRow
    from .context import PipelineContext

INSTALLATION_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U, so an id read aloud or retyped stays right."""
INSTALLATION_ID_LENGTH = 8
"""40 random bits: two databases of one merchant share an id about once in 10**12."""


def new_installation_id() -> str:
    """A fresh random installation id."""
    return "".join(secrets.choice(INSTALLATION_ALPHABET) for _ in range(INSTALLATION_ID_LENGTH))


def ensure_installation_id(db: Database, merchant_id: str) -> str:
    """The merchant's installation id in ``db``, made on first use and never changed.

    Two processes starting at once may both try to make it; the primary key lets one
    win and the other reads the winner's.
    """
    with db.transaction() as session:
        existing = repo.installation_id(session, merchant_id)
        if existing is not None:
            return existing
    try:
        with db.transaction() as session:
            value = new_installation_id()
            repo.add_installation_id(session, merchant_id, value, utcnow())
        return value
    except IntegrityError:
        with db.transaction() as session:
            existing = repo.installation_id(session, merchant_id)
        assert existing is not None, "the row that won the race must be there"
        return existing


def format_po_number(merchant_id: str, installation_id: str, order_id: int, sequence: int) -> str:
    """``<MERCHANT>-<INSTALLATION>-<order id>-<sequence>``, upper case."""
    return f"{merchant_id}-{installation_id}-{order_id}-{sequence}".upper()


def po_number(ctx: PipelineContext, order: OrderRow, sequence: int) -> str:
    """The number of the ``sequence``-th purchase order of ``order``; warehouses dedupe on it."""
    return format_po_number(ctx.merchant_id, ctx.installation_id(), order.id, sequence)


def charge_key(ctx: PipelineContext, order: OrderRow, generation: int) -> str:
    """The payment gateway's idempotency key of a charge attempt of ``order``."""
    return f"{ctx.merchant_id}-{ctx.installation_id()}-charge-{order.id}-{generation}"


def tracking_key(ctx: PipelineContext, supplier: str, shipment_id: str) -> str:
    """The key a channel dedupes one parcel's tracking push on."""
    return f"track:{ctx.installation_id()}:{supplier}:{shipment_id}"
