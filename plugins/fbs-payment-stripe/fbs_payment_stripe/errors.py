"""Map Stripe SDK exceptions to the fbs error families.

The core decides what happens next from the family alone: retry later
(:class:`~fbs_core.errors.RetriableError`), hold the order for the merchant
(:class:`~fbs_core.errors.FatalError`, :class:`~fbs_core.errors.PaymentDeclined`) or
name the instance whose credentials are wrong (:class:`~fbs_core.errors.AuthError`).
Every message is a sentence a merchant can act on and never contains a secret key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import stripe

from fbs_core.errors import (
    AdapterError,
    AuthError,
    FatalError,
    PaymentDeclined,
    RetriableError,
)

_SECRET_KEY = re.compile(r"\b[sr]k_(?:test|live)_[A-Za-z0-9*]+")


def redact(text: str) -> str:
    """Replace anything shaped like a Stripe secret or restricted key."""
    return _SECRET_KEY.sub("[redacted key]", text)


def decline_code(code: str | None, decline: str | None) -> str:
    """Pick the most specific decline reason Stripe gave.

    ``generic_decline`` says nothing beyond ``card_declined``, so the error code wins then.
    """
    if decline and decline != "generic_decline":
        return decline
    return code or "card_declined"


def declined(
    code: str, intent_id: str | None, stripe_message: str | None = None
) -> PaymentDeclined:
    """Build the error a merchant sees when Stripe will not charge their card."""
    where = f" (PaymentIntent {intent_id})" if intent_id else ""
    if code == "authentication_required":
        message = (
            f"Stripe needs the cardholder to authenticate this charge{where}, which cannot "
            "happen while fbs charges off-session. Use a card that does not require 3-D "
            "Secure for saved-card charges, or authenticate it once in Stripe, then retry "
            "the order."
        )
    else:
        detail = f": {redact(stripe_message)}" if stripe_message else "."
        message = (
            f"Stripe declined the card on file ({code}){where}{detail} "
            "Update the card, then retry the order."
        )
    return PaymentDeclined(message, code=code)


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Read ``Retry-After`` (seconds) from a response's headers, if it is there and sane."""
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                seconds = float(value)
            except ValueError:
                return None
            return seconds if seconds >= 0 else None
    return None


def _should_retry(headers: Mapping[str, str] | None) -> bool | None:
    for name, value in (headers or {}).items():
        if name.lower() == "stripe-should-retry":
            return value.strip().lower() == "true"
    return None


def _intent_id(error: stripe.StripeError) -> str | None:
    body: Any = error.json_body
    if isinstance(body, dict):
        intent = (body.get("error") or {}).get("payment_intent")
        if isinstance(intent, dict):
            return intent.get("id")
    return None


def from_stripe(error: stripe.StripeError, doing: str) -> AdapterError:
    """Translate one Stripe exception; ``doing`` names the call, e.g. ``"charging"``.

    Args:
        error: what the Stripe SDK raised.
        doing: a gerund phrase for messages ("charging order #1001").

    Returns:
        The fbs error to raise in its place (``raise from_stripe(e, ...) from e``).
    """
    status = error.http_status
    upstream = redact(error.user_message or "no message")
    if isinstance(error, stripe.CardError):
        decline = getattr(error.error, "decline_code", None) if error.error else None
        return declined(decline_code(error.code, decline), _intent_id(error), upstream)
    if isinstance(error, stripe.RateLimitError):
        return RetriableError(
            f"Stripe is rate-limiting requests while {doing}.",
            retry_after=retry_after(error.headers),
            code="rate_limited",
        )
    if isinstance(error, stripe.APIConnectionError):
        return RetriableError(
            f"Could not reach Stripe while {doing} ({upstream}).",
            code="upstream_unreachable",
        )
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return AuthError(
            f"Stripe refused the API key (HTTP {status}) while {doing}. Set a valid secret "
            "key (sk_live_… or a restricted key allowed to write PaymentIntents and Refunds) "
            "in this payment instance's api_key option.",
        )
    if isinstance(error, stripe.IdempotencyError):
        return FatalError(
            f"Stripe refused a retry while {doing}: the idempotency key was first used with "
            f"different parameters ({upstream}). The first attempt stands; check the "
            "payment in the Stripe dashboard before charging again.",
            code="idempotency_conflict",
        )
    if isinstance(error, stripe.InvalidRequestError):
        return FatalError(
            f"Stripe rejected the request while {doing}: {upstream}",
            code=error.code or "stripe_invalid_request",
        )
    retry_hint = _should_retry(error.headers)
    if status is not None and (status >= 500 or status == 409) and retry_hint is not False:
        return RetriableError(
            f"Stripe failed with HTTP {status} while {doing}.",
            retry_after=retry_after(error.headers),
            code="upstream_unavailable",
        )
    if retry_hint:
        return RetriableError(f"Stripe asked for a retry while {doing}: {upstream}")
    return FatalError(
        f"Stripe answered HTTP {status} while {doing}: {upstream}", code="stripe_error"
    )
