"""PaymentIntents, Refunds and the Customer: creation, confirmation, retrieval, lists.

Off-session confirmed PaymentIntents succeed, or fail with a 402 ``card_error`` for
Stripe's test payment methods; refunds refuse to give back more than remains on the
payment.

Lists follow Stripe's pagination reference (https://docs.stripe.com/api/pagination):
newest first, ``limit`` 1-100 (default 10), ``starting_after`` / ``ending_before`` object
ids that are mutually exclusive, and ``{"object": "list", "data", "has_more", "url"}``.
``GET /v1/refunds`` takes the parameters of "List all refunds" in Stripe's OpenAPI
(``shared/specs/stripe/spec3.yaml``, 2023-08-16): ``charge``, ``created`` (an integer or
``gt``/``gte``/``lt``/``lte``), ``ending_before``, ``expand``, ``limit``, ``payment_intent``
and ``starting_after``; anything else gets Stripe's ``parameter_unknown`` 400.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from copy import deepcopy
from typing import Any

from starlette.requests import Request

from ._form import StripeApiError, _bool_param, _check_known, _int_param, _metadata
from ._state import _new_id, _PaymentState, _State

# (code, decline_code, message) of the card_error Stripe returns for each failing outcome.
_DECLINES: dict[str, tuple[str, str, str]] = {
    "card_declined": ("card_declined", "generic_decline", "Your card was declined."),
    "insufficient_funds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "authentication_required": (
        "authentication_required",
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
    ),
}

_PAYMENT_INTENT_PARAMS = frozenset(
    {
        "amount", "currency", "customer", "payment_method", "off_session", "confirm",
        "description", "metadata", "statement_descriptor", "statement_descriptor_suffix",
        "receipt_email", "capture_method", "confirmation_method", "payment_method_types",
        "error_on_requires_action", "setup_future_usage", "shipping", "expand",
        "return_url", "automatic_payment_methods",
    }
)  # fmt: skip
_REFUND_PARAMS = frozenset({"payment_intent", "charge", "amount", "reason", "metadata", "expand"})
_REFUND_LIST_PARAMS = frozenset(
    {"charge", "created", "ending_before", "expand", "limit", "payment_intent", "starting_after"}
)
_RANGE = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
_REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_MINIMUM_CHARGE_CENTS = 50  # Stripe's minimum for USD, applied to every currency here


class _Objects:
    """The endpoints proper, called with the lock held."""

    customer: str
    payment_methods: dict[str, str]
    _state: _State

    # -- endpoints (called with the lock held) -------------------------------------

    def _create_payment_intent(self, _request: Request, params: dict[str, Any]) -> dict[str, Any]:
        _check_known(params, _PAYMENT_INTENT_PARAMS)
        amount = _int_param(params, "amount")
        if amount is None:
            raise StripeApiError(400, "Missing required param: amount.",
                                 code="parameter_missing", param="amount")  # fmt: skip
        currency = params.get("currency")
        if not currency:
            raise StripeApiError(400, "Missing required param: currency.",
                                 code="parameter_missing", param="currency")  # fmt: skip
        if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency):
            raise StripeApiError(400, f"Invalid currency: {currency}.",
                                 code="parameter_invalid_string", param="currency")  # fmt: skip
        if amount < _MINIMUM_CHARGE_CENTS:
            raise StripeApiError(400, "Amount must be at least $0.50 usd",
                                 code="amount_too_small", param="amount")  # fmt: skip
        capture_method = params.get("capture_method", "automatic")
        if capture_method not in ("automatic", "automatic_async", "manual"):
            raise StripeApiError(400, "Invalid capture_method: must be one of automatic, "
                                 "automatic_async, or manual", param="capture_method")  # fmt: skip
        confirm = _bool_param(params, "confirm")
        off_session = _bool_param(params, "off_session")
        metadata = _metadata(params)
        customer = params.get("customer")
        if customer is not None and customer != self.customer:
            raise StripeApiError(400, f"No such customer: '{customer}'",
                                 code="resource_missing", param="customer")  # fmt: skip
        payment_method = params.get("payment_method")
        if payment_method is not None and payment_method not in self.payment_methods:
            raise StripeApiError(400, f"No such PaymentMethod: '{payment_method}'",
                                 code="resource_missing", param="payment_method")  # fmt: skip
        if off_session and not confirm:
            raise StripeApiError(400, "You may only specify `off_session` when `confirm` is "
                                 "true.", param="off_session")  # fmt: skip
        if confirm and payment_method is None:
            raise StripeApiError(400, "You cannot confirm this PaymentIntent because it's "
                                 "missing a payment method.",
                                 code="payment_intent_unexpected_state")  # fmt: skip

        intent_id = _new_id("pi")
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "capture_method": capture_method,
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "confirmation_method": params.get("confirmation_method", "automatic"),
            "created": int(time.time()),
            "currency": currency.lower(),
            "customer": customer,
            "description": params.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "next_action": None,
            "payment_method": payment_method,
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "statement_descriptor_suffix": params.get("statement_descriptor_suffix"),
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
        }
        self._state.intents[intent_id] = _PaymentState(intent)
        if confirm:
            self._confirm(intent, off_session=off_session)
        return deepcopy(intent)

    def _confirm(self, intent: dict[str, Any], *, off_session: bool) -> None:
        """Apply the payment method's outcome; raise the 402 Stripe sends on failure."""
        outcome = self.payment_methods[intent["payment_method"]]
        charge_id = _new_id("ch")
        if outcome == "authentication_required" and not off_session:
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
            return
        if outcome == "succeeded":
            intent["latest_charge"] = charge_id
            if intent["capture_method"] == "manual":
                intent["status"] = "requires_capture"
                intent["amount_capturable"] = intent["amount"]
            else:
                intent["status"] = "succeeded"
                intent["amount_received"] = intent["amount"]
            return
        code, decline_code, message = _DECLINES[outcome]
        error = {
            "type": "card_error",
            "code": code,
            "decline_code": decline_code,
            "message": message,
            "charge": charge_id,
            "payment_method": {"id": intent["payment_method"], "object": "payment_method"},
        }
        intent["status"] = "requires_payment_method"
        intent["latest_charge"] = charge_id
        intent["last_payment_error"] = dict(error)
        raise StripeApiError(402, message, type_="card_error", code=code, saved=True,
                             decline_code=decline_code, charge=charge_id,
                             payment_intent=deepcopy(intent),
                             payment_method=error["payment_method"])  # fmt: skip

    def _retrieve_payment_intent(self, request: Request, _params: dict[str, Any]) -> dict[str, Any]:
        intent_id = request.path_params["id"]
        state = self._state.intents.get(intent_id)
        if state is None:
            raise StripeApiError(404, f"No such payment_intent: '{intent_id}'",
                                 code="resource_missing", param="intent")  # fmt: skip
        return deepcopy(state.intent)

    def _list_payment_intents(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        intents = [s.intent for s in self._state.intents.values()]
        if "customer" in params:
            intents = [i for i in intents if i["customer"] == params["customer"]]
        return self._page(request, list(reversed(intents)), params)

    def _list_refunds(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        _check_known({name.split("[", 1)[0]: v for name, v in params.items()},
                     _REFUND_LIST_PARAMS)  # fmt: skip
        refunds = list(self._state.refunds.values())
        for field_name in ("payment_intent", "charge"):
            if field_name in params:
                refunds = [r for r in refunds if r[field_name] == params[field_name]]
        for name in params:
            if name == "created" or name.startswith("created["):
                refunds = [r for r in refunds if _created_matches(r["created"], name, params)]
        return self._page(request, list(reversed(refunds)), params)

    @staticmethod
    def _page(
        request: Request, newest_first: list[dict[str, Any]], params: Mapping[str, Any]
    ) -> dict[str, Any]:
        limit = _int_param(params, "limit") or 10
        if not 1 <= limit <= 100:
            raise StripeApiError(400, "Invalid limit: must be between 1 and 100",
                                 param="limit")  # fmt: skip
        after, before = params.get("starting_after"), params.get("ending_before")
        if after is not None and before is not None:
            raise StripeApiError(400, "Received both starting_after and ending_before: "
                                 "these parameters are mutually exclusive.")  # fmt: skip
        ids = [o["id"] for o in newest_first]
        for name, cursor in (("starting_after", after), ("ending_before", before)):
            if cursor is not None and cursor not in ids:
                raise StripeApiError(400, f"No such object: '{cursor}'",
                                     code="resource_missing", param=name)  # fmt: skip
        if before is not None:
            newer = newest_first[: ids.index(before)]
            page, has_more = newer[-limit:], len(newer) > limit
        else:
            if after is not None:
                newest_first = newest_first[ids.index(after) + 1 :]
            page, has_more = newest_first[:limit], len(newest_first) > limit
        return {
            "object": "list",
            "data": deepcopy(page),
            "has_more": has_more,
            "url": request.url.path,
        }

    def _create_refund(self, _request: Request, params: dict[str, Any]) -> dict[str, Any]:
        _check_known(params, _REFUND_PARAMS)
        amount = _int_param(params, "amount")
        reason = params.get("reason")
        if reason is not None and reason not in _REFUND_REASONS:
            raise StripeApiError(400, f"Invalid reason: must be one of "
                                 f"{', '.join(_REFUND_REASONS)}", param="reason")  # fmt: skip
        metadata = _metadata(params)
        if amount is not None and amount < 1:
            raise StripeApiError(400, "Invalid positive integer", param="amount",
                                 code="parameter_invalid_integer")  # fmt: skip
        intent_id = params.get("payment_intent")
        if intent_id is None:
            raise StripeApiError(400, "One of the following params should be provided for this "
                                 "request: payment_intent or charge.",
                                 code="parameter_missing")  # fmt: skip
        state = self._state.intents.get(intent_id)
        if state is None:
            raise StripeApiError(400, f"No such payment_intent: '{intent_id}'", saved=True,
                                 code="resource_missing", param="payment_intent")  # fmt: skip
        intent = state.intent
        if intent["status"] != "succeeded":
            raise StripeApiError(400, f"This PaymentIntent ({intent_id}) does not have a "
                                 "successful charge to refund.", saved=True,
                                 code="charge_not_refundable",
                                 param="payment_intent")  # fmt: skip
        remaining = intent["amount_received"] - state.refunded_cents
        if remaining <= 0:
            raise StripeApiError(400, f"Charge {intent['latest_charge']} has already been "
                                 "refunded.", saved=True,
                                 code="charge_already_refunded")  # fmt: skip
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise StripeApiError(
                400,
                f"Refund amount ({_show(amount, intent['currency'])}) is greater than "
                f"unrefunded amount on charge ({_show(remaining, intent['currency'])})",
                saved=True,
                param="amount",
            )
        state.refunded_cents += amount
        refund = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "charge": intent["latest_charge"],
            "created": int(time.time()),
            "currency": intent["currency"],
            "metadata": metadata,
            "payment_intent": intent_id,
            "reason": reason,
            "status": "succeeded",
        }
        self._state.refunds[refund["id"]] = refund
        return deepcopy(refund)

    def _retrieve_refund(self, request: Request, _params: dict[str, Any]) -> dict[str, Any]:
        refund_id = request.path_params["id"]
        refund = self._state.refunds.get(refund_id)
        if refund is None:
            raise StripeApiError(404, f"No such refund: '{refund_id}'",
                                 code="resource_missing", param="id")  # fmt: skip
        return deepcopy(refund)

    def _retrieve_customer(self, request: Request, _params: dict[str, Any]) -> dict[str, Any]:
        customer_id = request.path_params["id"]
        if customer_id != self.customer:
            raise StripeApiError(404, f"No such customer: '{customer_id}'",
                                 code="resource_missing", param="id")  # fmt: skip
        default_method = next(
            (pm for pm, outcome in self.payment_methods.items() if outcome == "succeeded"), None
        )
        return {
            "id": customer_id,
            "object": "customer",
            "created": 1700000000,
            "description": "fbs merchant",
            "email": "merchant@example.com",
            "invoice_settings": {"default_payment_method": default_method},
            "livemode": False,
            "metadata": {},
        }


def _created_matches(created: int, name: str, params: Mapping[str, Any]) -> bool:
    """Whether ``created`` passes the ``created`` or ``created[op]`` filter ``name``."""
    bound = _int_param(params, name)
    if bound is None:
        return True
    if name == "created":
        return created == bound
    op = name[len("created[") : -1]
    if op not in _RANGE:
        raise StripeApiError(400, f"Received unknown parameter: {name}",
                             code="parameter_unknown", param=name)  # fmt: skip
    return bool(_RANGE[op](created, bound))


def _show(cents: int, currency: str) -> str:
    return f"${cents // 100}.{cents % 100:02d}" if currency == "usd" else f"{cents} {currency}"
