"""With several payment gateways configured, which one charges is an explicit setting."""

from __future__ import annotations

import pytest

from fbs_core.errors import ConfigError
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order
from fbs_core.testing.harness import basic_config


def two_gateways(**fulfillment) -> dict:
    config = basic_config(**fulfillment)
    config["payments"] = {
        "alpha": {"type": "fake-payment", "options": {"ledger": "default"}},
        "zeta": {"type": "fake-payment", "options": {"ledger": "default"}},
    }
    return config


def test_the_chosen_gateway_charges_not_the_alphabetically_first(make_engine, ledger):
    engine = make_engine(two_gateways(payment_gateway="zeta"))
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))

    engine.run_until_idle()

    assert [effect.target for effect in ledger.effects("charge")] == ["zeta"]


def test_several_gateways_without_a_choice_is_a_config_error_naming_them(make_engine):
    with pytest.raises(ConfigError) as caught:
        make_engine(two_gateways())

    message = str(caught.value)
    assert "fulfillment.payment_gateway" in message
    assert "alpha" in message and "zeta" in message


def test_a_choice_that_is_not_a_configured_gateway_is_a_config_error(make_engine):
    with pytest.raises(ConfigError) as caught:
        make_engine(two_gateways(payment_gateway="stripe"))

    message = str(caught.value)
    assert "fulfillment.payment_gateway" in message and "'stripe'" in message
    assert "alpha, zeta" in message


def test_a_disabled_gateway_cannot_be_chosen_and_does_not_count(make_engine, ledger):
    config = two_gateways()
    config["payments"]["alpha"]["enabled"] = False
    engine = make_engine(config)  # one enabled gateway needs no setting
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))
    engine.run_until_idle()
    assert [effect.target for effect in ledger.effects("charge")] == ["zeta"]

    config["fulfillment"] = {"payment_gateway": "alpha"}
    with pytest.raises(ConfigError) as caught:
        make_engine(config)
    assert "'alpha'" in str(caught.value) and "zeta" in str(caught.value)


def test_one_gateway_needs_no_setting(make_engine, ledger):
    engine = make_engine()
    fakes.market("default").add(make_order("A1", [("OIL-FLT-5W30", 1)]))

    engine.run_until_idle()

    assert [effect.target for effect in ledger.effects("charge")] == ["card"]
