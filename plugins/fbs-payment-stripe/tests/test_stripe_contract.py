"""The standard checks every fbs payment gateway plugin passes.

The structural checks need no network; the behaviour checks run against the local
Stripe imitation.
"""

from __future__ import annotations

import pytest

import fbs_payment_stripe.plugin
from fbs_core.testing.contracts import PaymentGatewayContract


class TestStripeGatewayContract(PaymentGatewayContract):
    plugin = fbs_payment_stripe.plugin
    type_name = "stripe"
    sample_options = {
        "api_key": "sk_test_contract0123456789",
        "customer": "cus_contract",
        "payment_method": "pm_card_visa",
    }

    @pytest.fixture
    def live_gateway(self, make_gateway):
        return make_gateway()
