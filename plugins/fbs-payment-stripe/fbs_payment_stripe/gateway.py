"""The Stripe payment gateway: off-session PaymentIntents on the merchant's saved card.

One charge is one PaymentIntent created with ``confirm=true`` and ``off_session=true``
on the merchant's Stripe customer and saved payment method. The core's idempotency key
goes to Stripe as ``Idempotency-Key``, so a charge retried after a crash gets Stripe's
saved response for the first attempt instead of a second payment. The SDK's own retries
are off: the core retries, with the same key.

Stripe forgets idempotency keys after 24 hours. Before re-sending an older charge the
core calls :meth:`StripeGateway.find_charge`, which looks the key up in the
PaymentIntents' ``fbs_idempotency_key`` metadata through Stripe's Search API. Refunds have
no Search API, so before re-sending an older refund :meth:`StripeGateway.find_refund`
lists the refunds of its PaymentIntent (``GET /v1/refunds?payment_intent=``, every page)
and matches the same metadata key.
"""

from __future__ import annotations

from typing import Any

import stripe
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from fbs_core.adapters import PaymentGateway
from fbs_core.domain import ChargeRequest, ChargeResult, Money, RefundRequest, RefundResult
from fbs_core.errors import FatalError

from .errors import decline_code, declined, from_stripe

_DESCRIPTION_LIMIT = 1000  # Stripe's maximum for PaymentIntent.description
_METADATA_VALUE_LIMIT = 500  # Stripe's maximum length of one metadata value
_REFUND_OK = ("succeeded", "pending")
_SEARCH_PAGE_SIZE = 100  # Stripe's maximum
_SEARCH_PAGES_LIMIT = 10  # more PaymentIntents than this for one key means something is wrong
_NOT_YET_SETTLED = ("processing", "requires_capture")  # may still take money
_LIST_PAGE_SIZE = 100  # Stripe's maximum for list calls
_LIST_PAGES_LIMIT = 10  # one payment refunded more than 1,000 times means something is wrong
_REFUND_UNSETTLED = ("requires_action",)  # may still give money back


class StripeOptions(BaseModel):
    """``[payments.<name>.options]`` for ``type = "stripe"``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr
    """Secret (``sk_...``) or restricted (``rk_...``) key of the fbs operator's account."""

    customer: str = Field(pattern=r"^cus_\w+$")
    """The merchant's Stripe customer id (``cus_...``)."""

    payment_method: str = Field(pattern=r"^(pm|card|src)_\w+$")
    """The merchant's saved card (``pm_...``) that fbs charges off-session."""

    api_base: str | None = Field(default=None, pattern=r"^https?://\S+$")
    """Another API address, for a local Stripe imitation or mock; None means Stripe."""

    timeout: float = Field(default=30.0, gt=0, le=300)
    """Seconds to wait for one Stripe response before retrying later."""

    statement_descriptor_suffix: str | None = Field(default=None, max_length=22)
    """Text appended to the account's statement descriptor on the merchant's statement."""

    @field_validator("api_key")
    @classmethod
    def _secret_key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith(("sk_", "rk_")):
            raise ValueError(
                "must be a Stripe secret key (sk_...) or restricted key (rk_...), "
                "not a publishable key"
            )
        return value


def payment_intent_params(request: ChargeRequest, options: StripeOptions) -> dict[str, Any]:
    """Build the PaymentIntent create parameters for one charge.

    The result depends only on its inputs, so a retry sends exactly the parameters of
    the first attempt, which Stripe's idempotency requires.
    """
    breakdown = request.breakdown
    metadata = {
        **{k: v[:_METADATA_VALUE_LIMIT] for k, v in request.metadata.items()},
        "fbs_order_id": str(request.order_id),
        "fbs_order_reference": request.order_reference[:_METADATA_VALUE_LIMIT],
        "fbs_idempotency_key": request.idempotency_key[:_METADATA_VALUE_LIMIT],
        "parts_cents": str(breakdown.parts.cents),
        "core_charges_cents": str(breakdown.core_charges.cents),
        "shipping_cents": str(breakdown.shipping.cents),
        "tax_cents": str(breakdown.tax.cents),
    }
    description = request.description or f"fbs order {request.order_reference}"
    params: dict[str, Any] = {
        "amount": request.amount.cents,
        "currency": request.amount.currency.lower(),
        "customer": options.customer,
        "payment_method": options.payment_method,
        "off_session": True,
        "confirm": True,
        "description": description[:_DESCRIPTION_LIMIT],
        "metadata": metadata,
    }
    if options.statement_descriptor_suffix:
        params["statement_descriptor_suffix"] = options.statement_descriptor_suffix
    return params


def refund_params(request: RefundRequest) -> dict[str, Any]:
    """Build the Refund create parameters for one refund of a PaymentIntent."""
    metadata = {
        **{k: v[:_METADATA_VALUE_LIMIT] for k, v in request.metadata.items()},
        "fbs_order_id": str(request.order_id),
        "fbs_idempotency_key": request.idempotency_key[:_METADATA_VALUE_LIMIT],
    }
    if request.reason:
        metadata["fbs_reason"] = request.reason[:_METADATA_VALUE_LIMIT]
    return {
        "payment_intent": request.charge_reference,
        "amount": request.amount.cents,
        "reason": "requested_by_customer",
        "metadata": metadata,
    }


def _field(obj: Any, name: str) -> Any:
    """Read a field of a Stripe object, None when the response left it out."""
    return getattr(obj, name, None)


def charge_result(intent: Any, request: ChargeRequest) -> ChargeResult:
    """Turn the PaymentIntent Stripe returned into a result, or the error it means.

    Only ``succeeded`` means money was taken. Anything else becomes an error naming
    the PaymentIntent, so the merchant can find it in the Stripe dashboard.
    """
    intent_id = _field(intent, "id")
    status = _field(intent, "status")
    if status == "succeeded":
        received = _field(intent, "amount_received")
        return ChargeResult(
            reference=intent_id,
            # A PaymentIntent only ever charges in the currency it was created with.
            amount=Money(
                cents=received if isinstance(received, int) else request.amount.cents,
                currency=request.amount.currency,
            ),
        )
    if status == "requires_action":
        return _raise(declined("authentication_required", intent_id))
    if status == "requires_payment_method":
        error = _field(intent, "last_payment_error")
        code = decline_code(_field(error, "code"), _field(error, "decline_code"))
        return _raise(declined(code, intent_id, _field(error, "message")))
    raise FatalError(
        f"Stripe left PaymentIntent {intent_id} in status {status!r} instead of charging "
        "the card; fbs counts a charge only when Stripe reports 'succeeded'. Check the "
        "payment in the Stripe dashboard, then retry the order.",
        code="payment_incomplete",
    )


def search_query(idempotency_key: str) -> str:
    """Build the Search API query for PaymentIntents charged under ``idempotency_key``.

    The value is the one the charge stored in metadata (cut to Stripe's 500 characters),
    in single quotes with ``'`` escaped by a backslash as Stripe's query language documents.

    Raises:
        FatalError: the key holds a backslash or a control character, whose meaning inside
            a quoted search value Stripe does not document, so a lookup could miss.
    """
    value = idempotency_key[:_METADATA_VALUE_LIMIT]
    if "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise FatalError(
            f"Cannot search Stripe for earlier charges under the idempotency key {value!r}: "
            "it holds characters Stripe's search language cannot be trusted to match. "
            "Check the Stripe dashboard for a payment with this fbs_idempotency_key "
            "before charging again.",
            code="unsearchable_key",
        )
    escaped = value.replace("'", "\\'")
    return f"metadata['fbs_idempotency_key']:'{escaped}'"


def refund_result(refund: Any, request: RefundRequest) -> RefundResult:
    """Turn the Refund Stripe returned into a result, or the error it means."""
    status = _field(refund, "status")
    if status not in _REFUND_OK:
        raise FatalError(
            f"Stripe reported refund {_field(refund, 'id')} of payment "
            f"{request.charge_reference} as {status!r}; the money has not gone back. "
            "Check the refund in the Stripe dashboard.",
            code="refund_failed",
        )
    amount = _field(refund, "amount")
    return RefundResult(
        reference=_field(refund, "id"),
        amount=Money(
            cents=amount if isinstance(amount, int) else request.amount.cents,
            currency=request.amount.currency,
        ),
    )


def _raise(error: Exception) -> ChargeResult:
    raise error


class StripeGateway(PaymentGateway):
    """Charge and refund the merchant's saved card through Stripe.

    Args:
        name: the instance name from ``[payments.<name>]``.
        options: validated :class:`StripeOptions`.
        http_client: a Stripe SDK HTTP client to use instead of the default, e.g. one
            that records exchanges in tests.
    """

    def __init__(
        self,
        name: str,
        options: StripeOptions,
        *,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        super().__init__(name, options)
        self._http = http_client or stripe.RequestsClient(timeout=options.timeout)
        base = {"api": options.api_base.rstrip("/")} if options.api_base else None
        self._client = stripe.StripeClient(
            options.api_key.get_secret_value(),
            base_addresses=base,
            max_network_retries=0,
            http_client=self._http,
        )

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Create and confirm an off-session PaymentIntent for ``request.amount``.

        Raises:
            PaymentDeclined: Stripe declined the card or needs the cardholder present.
            RetriableError: Stripe was unreachable, rate-limited or failed (5xx).
            AuthError: the API key was refused.
            FatalError: Stripe rejected the request or the idempotency key was reused
                with other parameters (``idempotency_conflict``).
        """
        if request.amount.cents <= 0:
            raise FatalError(
                f"Refusing to charge {request.amount} for order {request.order_reference}: "
                "a charge must be positive.",
                code="invalid_amount",
            )
        doing = f"charging order {request.order_reference}"
        try:
            intent = self._client.v1.payment_intents.create(
                params=payment_intent_params(request, self.options),  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            raise from_stripe(exc, doing) from exc
        result = charge_result(intent, request)
        self.log.info("charged %s for order %s as %s", result.amount, request.order_reference,
                      result.reference)  # fmt: skip
        return result

    def find_charge(self, request: ChargeRequest) -> ChargeResult | None:
        """Find the ``succeeded`` PaymentIntent charged earlier under the request's key.

        Searches PaymentIntents by their ``fbs_idempotency_key`` metadata and keeps only
        those whose value matches exactly. Stripe makes new PaymentIntents searchable
        within about a minute (up to an hour during outages), which is why the core asks
        only about attempts older than the idempotency window.

        Returns:
            The earlier charge, or None when no PaymentIntent for the key succeeded
            or can still succeed (none exists, or every one was declined or canceled).

        Raises:
            RetriableError: Stripe was unreachable, rate-limited or failed (5xx).
            AuthError: the API key was refused (restricted keys need PaymentIntents read).
            FatalError: Stripe rejected the search (e.g. Search is unavailable to the
                account), the key cannot be searched, a PaymentIntent for the key is
                still ``processing`` or awaiting capture (``payment_incomplete``), or more
                than one succeeded (``duplicate_charge``).
        """
        key = request.idempotency_key[:_METADATA_VALUE_LIMIT]
        params: dict[str, Any] = {"query": search_query(key), "limit": _SEARCH_PAGE_SIZE}
        doing = f"looking for an earlier charge of order {request.order_reference}"
        matches: list[Any] = []
        for _ in range(_SEARCH_PAGES_LIMIT):
            try:
                found = self._client.v1.payment_intents.search(params=params)  # type: ignore[arg-type]
            except stripe.StripeError as exc:
                raise from_stripe(exc, doing) from exc
            matches += [
                intent for intent in _field(found, "data") or []
                if _field(_field(intent, "metadata"), "fbs_idempotency_key") == key
            ]  # fmt: skip
            next_page = _field(found, "next_page")
            if not _field(found, "has_more") or not next_page:
                break
            params = {**params, "page": next_page}
        else:
            raise FatalError(
                f"Stripe returned more than {_SEARCH_PAGES_LIMIT * _SEARCH_PAGE_SIZE} "
                f"PaymentIntents for the idempotency key {key!r} of order "
                f"{request.order_reference}; check them in the Stripe dashboard.",
                code="too_many_matches",
            )
        succeeded = [i for i in matches if _field(i, "status") == "succeeded"]
        unsettled = [i for i in matches if _field(i, "status") in _NOT_YET_SETTLED]
        if unsettled and not succeeded:
            intent = unsettled[0]
            raise FatalError(
                f"Stripe still has PaymentIntent {_field(intent, 'id')} for order "
                f"{request.order_reference} in status {_field(intent, 'status')!r}; it may "
                "yet take the money. Check it in the Stripe dashboard before charging again.",
                code="payment_incomplete",
            )
        if len(succeeded) > 1:
            ids = ", ".join(_field(intent, "id") for intent in succeeded)
            raise FatalError(
                f"Stripe charged order {request.order_reference} more than once under one "
                f"idempotency key ({ids}). Refund the extra payments in the Stripe "
                "dashboard, then record the one that stands.",
                code="duplicate_charge",
            )
        if not succeeded:
            return None
        result = charge_result(succeeded[0], request)
        self.log.info("found earlier charge %s of %s for order %s", result.reference,
                      result.amount, request.order_reference)  # fmt: skip
        return result

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund ``request.amount`` of the PaymentIntent ``request.charge_reference``.

        Raises:
            RetriableError: Stripe was unreachable, rate-limited or failed (5xx).
            AuthError: the API key was refused.
            FatalError: Stripe refused the refund (e.g. more than remains), or reported
                it failed.
        """
        if request.amount.cents <= 0:
            raise FatalError(
                f"Refusing to refund {request.amount} on {request.charge_reference}: "
                "a refund must be positive.",
                code="invalid_amount",
            )
        doing = f"refunding {request.charge_reference}"
        try:
            refund = self._client.v1.refunds.create(
                params=refund_params(request),  # type: ignore[arg-type]
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.StripeError as exc:
            raise from_stripe(exc, doing) from exc
        return refund_result(refund, request)

    def find_refund(self, request: RefundRequest) -> RefundResult | None:
        """Find the refund of ``request.charge_reference`` made earlier under the request's key.

        Stripe has no search for refunds, so this lists the PaymentIntent's refunds
        (newest first, 100 a page, following ``has_more`` with ``starting_after``) and
        keeps those whose ``fbs_idempotency_key`` metadata is the key. A ``succeeded`` or
        ``pending`` refund is the one made earlier; ``failed`` and ``canceled`` ones gave
        nothing back and count as none.

        Raises:
            RetriableError: Stripe was unreachable, rate-limited or failed (5xx).
            AuthError: the API key was refused (restricted keys need Refunds read).
            FatalError: Stripe rejected the list, the payment has more refunds than fbs
                reads (``too_many_refunds``), a refund for the key still waits for an
                action (``refund_incomplete``), or more than one was made
                (``duplicate_refund``).
        """
        key = request.idempotency_key[:_METADATA_VALUE_LIMIT]
        params: dict[str, Any] = {
            "payment_intent": request.charge_reference,
            "limit": _LIST_PAGE_SIZE,
        }
        doing = f"looking for an earlier refund of {request.charge_reference}"
        matches: list[Any] = []
        for _ in range(_LIST_PAGES_LIMIT):
            try:
                page = self._client.v1.refunds.list(params=params)  # type: ignore[arg-type]
            except stripe.StripeError as exc:
                raise from_stripe(exc, doing) from exc
            refunds = _field(page, "data") or []
            matches += [
                refund for refund in refunds
                if _field(_field(refund, "metadata"), "fbs_idempotency_key") == key
            ]  # fmt: skip
            if not _field(page, "has_more") or not refunds:
                break
            params = {**params, "starting_after": _field(refunds[-1], "id")}
        else:
            raise FatalError(
                f"Stripe lists more than {_LIST_PAGES_LIMIT * _LIST_PAGE_SIZE} refunds of "
                f"{request.charge_reference}; fbs cannot tell whether the refund under "
                f"{key!r} was made. Check the payment in the Stripe dashboard.",
                code="too_many_refunds",
            )
        made = [r for r in matches if _field(r, "status") in _REFUND_OK]
        unsettled = [r for r in matches if _field(r, "status") in _REFUND_UNSETTLED]
        if unsettled and not made:
            refund = unsettled[0]
            raise FatalError(
                f"Stripe still has refund {_field(refund, 'id')} of {request.charge_reference} "
                f"in status {_field(refund, 'status')!r}; it may yet give the money back. "
                "Check it in the Stripe dashboard before refunding again.",
                code="refund_incomplete",
            )
        if len(made) > 1:
            ids = ", ".join(_field(refund, "id") for refund in made)
            raise FatalError(
                f"Stripe refunded {request.charge_reference} more than once under one "
                f"idempotency key ({ids}). Check the refunds in the Stripe dashboard.",
                code="duplicate_refund",
            )
        if not made:
            return None
        result = refund_result(made[0], request)
        self.log.info("found earlier refund %s of %s on %s", result.reference, result.amount,
                      request.charge_reference)  # fmt: skip
        return result

    def check(self) -> None:
        """Retrieve the configured customer: proves the key works and the customer exists.

        Raises:
            AuthError: the API key was refused.
            FatalError: the customer does not exist or was deleted.
            RetriableError: Stripe was unreachable or failed.
        """
        doing = f"looking up customer {self.options.customer}"
        try:
            customer = self._client.v1.customers.retrieve(self.options.customer)
        except stripe.StripeError as exc:
            raise from_stripe(exc, doing) from exc
        if _field(customer, "deleted"):
            raise FatalError(
                f"Stripe customer {self.options.customer} was deleted; set this payment "
                "instance's customer option to the merchant's current customer id.",
                code="customer_deleted",
            )

    def close(self) -> None:
        """Close the HTTP sessions the Stripe client opened."""
        self._http.close()
