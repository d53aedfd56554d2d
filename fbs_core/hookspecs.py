"""Hook specifications for fbs plugins.

A plugin is a module (the target of an entry point in the ``fbs`` group) whose functions
are decorated with ``@fbs_core.hookimpl`` and named after a hook below. Every hook here is
listed in README.md; ``tests/test_hookspecs.py`` checks that.

Three families:

* **registration** hooks yield types; called once at startup, no network I/O;
* **decision** hooks are firstresult: the first non-None answer wins, and the core ships
  a ``trylast`` default, so a plugin implements one only to replace the default;
* **notification** hooks are told about order events; their return value is ignored and
  an exception in one never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .domain import (
        Address,
        FulfillmentRules,
        Money,
        NoPlan,
        Offer,
        Order,
        SourcingPlan,
        TimelineEvent,
    )
    from .types import OrderSourceType, PaymentGatewayType, SupplierType, TrackingSinkType

hookspec = pluggy.HookspecMarker("fbs")

ShippingEstimator = Callable[[str, "Address", int, str], "Money"]
"""``estimate(origin_zip, destination, weight_grams, currency) -> Money``."""


class FbsSpecs:
    """Every hook an fbs plugin can implement."""

    # -- registration: called once at startup, no network I/O -----------------------

    @hookspec
    def fbs_order_sources(self) -> Iterable[OrderSourceType]:
        """Register channel types fbs can read orders from.

        Called once at startup. Yield one ``OrderSourceType`` per kind of channel. If the
        adapter the factory builds is also a ``TrackingSink``, tracking for orders from
        that channel is written back through it. If this hook raises, the plugin is
        reported as failed and every other plugin's types are still registered.

        The adapter should override ``OrderSource.store_identity`` to name its store
        (``woocommerce:shop.example.com``): orders are kept per store, not per instance
        name, so a merchant can rename the instance without importing its orders again.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_order_sources():
                    yield OrderSourceType(name="woocommerce", options_model=WooOptions,
                                          factory=WooCommerceChannel)
        """
        yield from ()

    @hookspec
    def fbs_tracking_sinks(self) -> Iterable[TrackingSinkType]:
        """Register extra places tracking numbers are sent to (``[tracking.<name>]``).

        Called once at startup; same rules as ``fbs_order_sources``.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_tracking_sinks():
                    yield TrackingSinkType(name="webhook", options_model=HookOptions,
                                           factory=WebhookSink)
        """
        yield from ()

    @hookspec
    def fbs_payment_gateways(self) -> Iterable[PaymentGatewayType]:
        """Register payment gateway types that charge the merchant's card.

        Called once at startup; same rules as ``fbs_order_sources``. The factory builds a
        :class:`~fbs_core.adapters.PaymentGateway`: ``charge`` and ``refund`` must be
        idempotent on the request's key, and ``find_charge`` / ``find_refund`` look up
        an effect made earlier under a key, for retries older than the gateway's
        idempotency window (Stripe: 24 h). A gateway without them makes the core stop
        such a late retry and ask the merchant to check the dashboard.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_payment_gateways():
                    yield PaymentGatewayType(name="stripe", options_model=StripeOptions,
                                             factory=StripeGateway)
        """
        yield from ()

    @hookspec
    def fbs_suppliers(self) -> Iterable[SupplierType]:
        """Register supplier (warehouse) types.

        Called once at startup. Yield one ``SupplierType`` per kind of warehouse API this
        distribution speaks; the factory is called once per configured instance.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_suppliers():
                    yield SupplierType(name="acme-ftp", options_model=AcmeOptions,
                                       factory=AcmeSupplier)
        """
        yield from ()

    # -- decisions: firstresult, the core ships a trylast default ---------------------

    @hookspec(firstresult=True)
    def fbs_sourcing_plan(
        self,
        order: Order,
        offers: Sequence[Offer],
        rules: FulfillmentRules,
        estimate_shipping: ShippingEstimator,
    ) -> SourcingPlan | NoPlan | None:
        """Choose the warehouses that fill an order.

        Called once per order when it is approved (and again when a warehouse refuses a
        purchase order, without that warehouse's offers). Stops at first non-None result.
        The core's default picks the lowest landed cost among warehouses holding every
        line, ties to the nearest, else the fewest warehouses. Return ``NoPlan`` with a
        reason code to hold the order, ``None`` to defer to the next implementation.
        The plan's ``tax`` is filled in afterwards by ``fbs_tax_estimate``.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_sourcing_plan(order, offers, rules, estimate_shipping):
                    if any(o.supplier == "preferred" for o in offers):
                        return None  # let the default plan decide
                    return NoPlan(reason="no_stock", message="only our own warehouse ships")
        """

    @hookspec(firstresult=True)
    def fbs_shipping_estimate(
        self, origin_zip: str, destination: Address, weight_grams: int, currency: str
    ) -> Money | None:
        """Estimate what a warehouse will charge to ship one parcel.

        Called for every candidate warehouse while planning. Stops at first non-None
        result. The core's default uses the zone-and-weight table in README.md.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_shipping_estimate(origin_zip, destination, weight_grams, currency):
                    return Money(cents=1200, currency=currency)  # flat rate
        """

    @hookspec(firstresult=True)
    def fbs_tax_estimate(
        self, order: Order, plan: SourcingPlan, rules: FulfillmentRules
    ) -> Money | None:
        """Estimate the tax due on the merchant's purchase for this plan.

        Called once per plan. Stops at first non-None result. The core's default applies
        ``[fulfillment] tax_rates_percent`` for the destination state to parts and cores,
        and is zero where no rate is configured.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_tax_estimate(order, plan, rules):
                    return Money.zero(plan.currency)
        """

    # -- notifications: return value ignored, each impl isolated ------------------

    @hookspec
    def fbs_order_imported(self, order: Order, event: TimelineEvent) -> None:
        """Called after a new order from a channel has been stored.

        Each notification hook is delivered at least once after the change commits; an
        exception is logged with the plugin's name and never propagated.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_order_imported(order, event):
                    print(f"new order {order.number} from {order.channel}")
        """

    @hookspec
    def fbs_order_held(self, order: Order, event: TimelineEvent) -> None:
        """Called when an order is held; ``order.hold_reason`` says why.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_order_held(order, event):
                    send_email(f"Order {order.number} needs you: {order.hold_message}")
        """

    @hookspec
    def fbs_order_sourced(self, order: Order, event: TimelineEvent) -> None:
        """Called when a sourcing plan has been chosen for an order.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_order_sourced(order, event):
                    log.info("planned %s: %s", order.id, event.message)
        """

    @hookspec
    def fbs_order_charged(self, order: Order, event: TimelineEvent) -> None:
        """Called when the merchant's card has been charged for an order.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_order_charged(order, event):
                    ledger.record(order.id, event.data["amount_cents"])
        """

    @hookspec
    def fbs_order_ordered(self, order: Order, event: TimelineEvent) -> None:
        """Called when every purchase order of an order has been accepted.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_order_ordered(order, event):
                    log.info("%s ordered", order.number)
        """

    @hookspec
    def fbs_order_shipped(self, order: Order, event: TimelineEvent) -> None:
        """Called when a parcel of an order has shipped (partially or in full).

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_order_shipped(order, event):
                    log.info("%s shipped: %s", order.number, event.data["tracking_number"])
        """

    @hookspec
    def fbs_order_completed(self, order: Order, event: TimelineEvent) -> None:
        """Called when every line has shipped and its tracking is on the channel.

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_order_completed(order, event):
                    metrics.increment("orders.completed")
        """

    @hookspec
    def fbs_order_cancelled(self, order: Order, event: TimelineEvent) -> None:
        """Called when an order has been cancelled (by the channel or the merchant).

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_order_cancelled(order, event):
                    log.info("%s cancelled: %s", order.number, event.message)
        """

    @hookspec
    def fbs_order_ship_by_at_risk(self, order: Order, event: TimelineEvent) -> None:
        """Called when an order may miss the ship-by date its marketplace set.

        ``event.data["risk"]`` is ``no_purchase_order`` (none placed in time) or
        ``no_tracking`` (no tracking one business day before ``order.ship_by``).

        Example:
            .. code-block:: python

                @fbs_core.hookimpl
                def fbs_order_ship_by_at_risk(order, event):
                    pager.send(f"{order.number} must ship by {order.ship_by}: {event.message}")
        """


NOTIFICATION_HOOKS = {
    "imported": "fbs_order_imported",
    "held": "fbs_order_held",
    "sourced": "fbs_order_sourced",
    "charged": "fbs_order_charged",
    "ordered": "fbs_order_ordered",
    "shipped": "fbs_order_shipped",
    "completed": "fbs_order_completed",
    "cancelled": "fbs_order_cancelled",
    "ship_by_at_risk": "fbs_order_ship_by_at_risk",
}
"""Timeline event name → the notification hook it triggers."""
