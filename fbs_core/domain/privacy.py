"""Privacy requests a channel relays: erase a buyer's personal data, or report what fbs holds.

Marketplaces oblige every app that stores their buyers' data to honour these (Shopify's
``customers/redact``, ``shop/redact`` and ``customers/data_request``; eBay's marketplace
account deletion). A channel's webhook handler names the orders; the core does the work
(:mod:`fbs_core.pipeline.privacy`), so every channel erases the same fields the same way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class PrivacyAction(enum.StrEnum):
    """What a privacy request asks of fbs."""

    erase = "erase"
    """Erase the buyers' names, street addresses, e-mail and phone; keep the money records."""
    report = "report"
    """Write what fbs holds about the buyer to the log, as JSON, for the merchant."""


@dataclass(frozen=True)
class PrivacyRequest:
    """Which of one store's orders a privacy request covers.

    An order is covered when its external id is in ``external_ids``, its ship-to e-mail
    equals ``email`` (case-insensitive), its channel data has ``channel_reference``'s
    key with that value (e.g. ``("buyer", "ebay-user-42")``), or ``whole_store`` is set.
    """

    action: PrivacyAction
    store_identity: str
    external_ids: tuple[str, ...] = ()
    email: str | None = None
    channel_reference: tuple[str, str] | None = None
    whole_store: bool = False
    origin: str = ""
    """Who asked, for the order timelines and the log (e.g. ``"shopify customers/redact"``)."""
