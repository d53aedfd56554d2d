"""A plugin that raises inside every hook it implements."""

import fbs_core


@fbs_core.hookimpl
def fbs_suppliers():
    raise RuntimeError("registration exploded")


@fbs_core.hookimpl
def fbs_shipping_estimate(origin_zip, destination, weight_grams, currency):
    raise RuntimeError("estimate exploded")


@fbs_core.hookimpl
def fbs_order_imported(order, event):
    raise RuntimeError("listener exploded")
