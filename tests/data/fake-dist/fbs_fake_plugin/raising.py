"""A plugin that raises inside every hook there is."""

import fbs_core


@fbs_core.hookimpl
def fbs_order_sources():
    raise RuntimeError("registration exploded")


@fbs_core.hookimpl
def fbs_tracking_sinks():
    raise RuntimeError("registration exploded")


@fbs_core.hookimpl
def fbs_payment_gateways():
    raise RuntimeError("registration exploded")


@fbs_core.hookimpl
def fbs_suppliers():
    raise RuntimeError("registration exploded")


@fbs_core.hookimpl
def fbs_sourcing_plan(order, offers, rules, estimate_shipping):
    raise RuntimeError("plan exploded")


@fbs_core.hookimpl
def fbs_shipping_estimate(origin_zip, destination, weight_grams, currency):
    raise RuntimeError("estimate exploded")


@fbs_core.hookimpl
def fbs_tax_estimate(order, plan, rules):
    raise RuntimeError("tax exploded")


@fbs_core.hookimpl
def fbs_order_imported(order, event):
    raise RuntimeError("listener exploded")


@fbs_core.hookimpl
def fbs_order_held(order, event):
    raise RuntimeError("listener exploded")


@fbs_core.hookimpl
def fbs_order_sourced(order, event):
    raise RuntimeError("listener exploded")


@fbs_core.hookimpl
def fbs_order_charged(order, event):
    raise RuntimeError("listener exploded")


@fbs_core.hookimpl
def fbs_order_ordered(order, event):
    raise RuntimeError("listener exploded")


@fbs_core.hookimpl
def fbs_order_shipped(order, event):
    raise RuntimeError("listener exploded")


@fbs_core.hookimpl
def fbs_order_completed(order, event):
    raise RuntimeError("listener exploded")


@fbs_core.hookimpl
def fbs_order_cancelled(order, event):
    raise RuntimeError("listener exploded")
