"""Wrapper hookimpls on fbs hooks are refused out loud, never skipped in silence.

fbs calls each plugin's implementation of a hook on its own (so one failing plugin never
stops the others), which leaves no call for a pluggy wrapper to wrap: such an impl is
reported as a problem of its plugin, by name, and never runs.
"""

from __future__ import annotations

import sys
import types

import pytest

import fbs_core
from fbs_core.domain import Address, Money
from fbs_core.plugins import build_registry, describe_plugins, make_plugin_manager

RAN: list[str] = []


class Wrapping:
    """A plugin with a new-style and an old-style wrapper, and one ordinary hook."""

    @fbs_core.hookimpl(wrapper=True)
    def fbs_order_charged(self, order, event):
        RAN.append("wrapper")
        return (yield)

    @fbs_core.hookimpl(hookwrapper=True)
    def fbs_shipping_estimate(self, currency):
        RAN.append("hookwrapper")
        outcome = yield
        outcome.force_result(Money(cents=1, currency=currency))

    @fbs_core.hookimpl
    def fbs_order_imported(self, order):
        RAN.append(f"imported {order}")


def estimate_args() -> dict:
    destination = Address(name="A", line1="1 Main St", city="Austin", region="TX",
                          postal_code="78701", country="US")  # fmt: skip
    return {"origin_zip": "07102", "destination": destination, "weight_grams": 1000,
            "currency": "USD"}  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_runs():
    RAN.clear()


def test_wrapper_hookimpls_are_reported_with_the_plugin_and_hook():
    pm = make_plugin_manager(load_entrypoints=False)

    pm.register(Wrapping(), name="wrapping-plugin")

    problems = {f.stage: f.error for f in pm.failures if f.plugin == "wrapping-plugin"}
    assert set(problems) == {"fbs_order_charged", "fbs_shipping_estimate"}
    assert "wrapper=True" in problems["fbs_order_charged"]
    assert "hookwrapper=True" in problems["fbs_shipping_estimate"]
    assert all("not supported" in error for error in problems.values())
    [entry] = [
        e for e in describe_plugins(pm, build_registry(pm)) if e["name"] == "wrapping-plugin"
    ]
    assert entry["status"] == "failed"


def test_a_wrapper_in_a_module_plugin_is_reported_when_the_module_loads(monkeypatch):
    module = types.ModuleType("fbs_wrapping_module")
    module.fbs_order_charged = Wrapping.fbs_order_charged.__get__(Wrapping())
    monkeypatch.setitem(sys.modules, "fbs_wrapping_module", module)

    pm = make_plugin_manager(load_entrypoints=False, modules=["fbs_wrapping_module"])

    assert [(f.plugin, f.stage) for f in pm.failures] == [
        ("fbs_wrapping_module", "fbs_order_charged")
    ]


def test_a_refused_wrapper_never_runs_and_the_plugins_other_hooks_still_do():
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(Wrapping(), name="wrapping-plugin")
    default = make_plugin_manager(load_entrypoints=False).decide(
        "fbs_shipping_estimate", **estimate_args()
    )

    estimate = pm.decide("fbs_shipping_estimate", **estimate_args())
    failures = pm.call_each("fbs_order_charged", order="order-1", event="event-1")
    pm.call_each("fbs_order_imported", order="order-1", event="event-1")

    assert estimate == default != Money(cents=1)  # the core's answer, not the wrapper's
    assert failures == []
    assert RAN == ["imported order-1"]
