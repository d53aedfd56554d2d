"""Hook implementations for fbs-payment-stripe (the ``fbs`` entry point target)."""

from __future__ import annotations

from collections.abc import Iterator

import fbs_core
from fbs_core.types import PaymentGatewayType

from .gateway import StripeGateway, StripeOptions


@fbs_core.hookimpl
def fbs_payment_gateways() -> Iterator[PaymentGatewayType]:
    """Register the ``stripe`` payment gateway type."""
    yield PaymentGatewayType(
        name="stripe",
        description="Charges the merchant's saved card off-session with Stripe PaymentIntents",
        options_model=StripeOptions,
        factory=StripeGateway,
    )
