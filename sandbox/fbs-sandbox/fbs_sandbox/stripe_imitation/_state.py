"""The account's objects, the faults queued for it, and the Python API over them.

The counters (``charges``, ``refunds``, ``duplicate_effects`` …) let tests and the demo
prove that a crash-and-retry never charged or refunded twice.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

STRIPE_TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "succeeded",
    "pm_card_mastercard": "succeeded",
    "pm_card_chargeDeclined": "card_declined",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_authenticationRequired": "authentication_required",
}
"""Stripe's documented test payment methods and what confirming each one does."""

OUTCOMES = ("succeeded", "card_declined", "insufficient_funds", "authentication_required")


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass
class _Fault:
    status: int
    remaining: int
    headers: dict[str, str]
    after_effect: bool


@dataclass
class _SavedResponse:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]
    request_id: str


@dataclass
class _PaymentState:
    intent: dict[str, Any]
    refunded_cents: int = 0


@dataclass
class _State:
    intents: dict[str, _PaymentState] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    saved: dict[str, _SavedResponse] = field(default_factory=dict)
    faults: list[_Fault] = field(default_factory=list)
    replays: int = 0


class _Ledger:
    """The Python API for tests and the demo: fault injection and counters."""

    _lock: threading.Lock
    _state: _State

    # -- Python API for tests and the demo ------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        after_effect: bool = False,
    ) -> None:
        """Answer the next ``times`` API requests with ``status`` and Stripe's error body.

        By default the request is refused before Stripe starts executing it (a 429, a
        5xx at the edge, a 401): nothing happens and idempotency saves nothing. With
        ``after_effect=True`` the request is executed and its real response saved for
        its idempotency key, but the client is told ``status``, as when the connection
        drops after Stripe charged.
        """
        with self._lock:
            self._state.faults.append(_Fault(status, times, dict(headers or {}), after_effect))

    def forget_idempotency_keys(self) -> None:
        """Drop every saved idempotency response, as Stripe does once a key is 24 h old."""
        with self._lock:
            self._state.saved.clear()

    @property
    def payment_intents(self) -> list[dict[str, Any]]:
        """Every PaymentIntent created, oldest first (copies)."""
        with self._lock:
            return [deepcopy(p.intent) for p in self._state.intents.values()]

    @property
    def refund_objects(self) -> list[dict[str, Any]]:
        """Every Refund created, oldest first (copies)."""
        with self._lock:
            return [deepcopy(r) for r in self._state.refunds.values()]

    @property
    def charges(self) -> int:
        """Number of PaymentIntents that succeeded (money taken)."""
        return len(self._succeeded())

    @property
    def charged_cents(self) -> int:
        """Money taken by all succeeded PaymentIntents, in minor units."""
        return sum(p["amount_received"] for p in self._succeeded())

    @property
    def refunds(self) -> int:
        """Number of refunds created."""
        with self._lock:
            return len(self._state.refunds)

    @property
    def refunded_cents(self) -> int:
        """Money given back by all refunds, in minor units."""
        with self._lock:
            return sum(r["amount"] for r in self._state.refunds.values())

    @property
    def replays(self) -> int:
        """Number of responses replayed for a repeated idempotency key."""
        with self._lock:
            return self._state.replays

    @property
    def duplicate_effects(self) -> int:
        """Charges or refunds made twice for one fbs idempotency key (must stay 0).

        Counts succeeded PaymentIntents, and refunds, whose ``fbs_idempotency_key``
        metadata repeats an earlier one.
        """
        with self._lock:
            refunds = list(self._state.refunds.values())
        charge_keys = Counter(p["metadata"].get("fbs_idempotency_key") for p in self._succeeded())
        refund_keys = Counter(r["metadata"].get("fbs_idempotency_key") for r in refunds)
        return sum(n - 1 for counter in (charge_keys, refund_keys) for k, n in counter.items() if k)

    def _succeeded(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                p.intent for p in self._state.intents.values()
                if p.intent["status"] == "succeeded"
            ]  # fmt: skip
