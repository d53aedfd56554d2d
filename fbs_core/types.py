"""Registration records: what plugins yield from the registration hooks.

A *type* is what a plugin registers in code (``woocommerce``); an *instance* is what a
merchant configures in ``fbs.toml`` (``[channels.my-shop]`` with ``type = "woocommerce"``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass(frozen=True, kw_only=True)
class PluginType:
    """Fields shared by every registration record."""

    name: str
    """Value of ``type =`` in an instance table; lower-cased and stripped."""

    options_model: type[BaseModel]
    """pydantic model for the instance's ``options`` sub-table; use ``extra="forbid"``."""

    factory: Callable[[str, Any], Any]
    """Called as ``factory(instance_name, options)``; usually the adapter class."""

    description: str = ""
    """One line shown by ``fbs plugins``."""

    kind: str = ""
    """Set by each subclass: ``channel``, ``tracking``, ``payment`` or ``supplier``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.strip().lower())


@dataclass(frozen=True, kw_only=True)
class OrderSourceType(PluginType):
    """What a channel plugin yields from ``fbs_order_sources()``.

    The factory builds an :class:`fbs_core.adapters.OrderSource`. If the object it builds is
    also a :class:`fbs_core.adapters.TrackingSink`, tracking is written back through it.
    """

    kind: str = "channel"

    app_webhook: Callable[[Any, Any], Any] | None = None
    """An :data:`fbs_core.adapters.AppWebhookHandler` served at ``/app-webhooks/<type>``
    for deliveries not tied to one store (app-level compliance or account topics)."""


@dataclass(frozen=True, kw_only=True)
class TrackingSinkType(PluginType):
    """What a plugin yields from ``fbs_tracking_sinks()``: extra places tracking is sent."""

    kind: str = "tracking"


@dataclass(frozen=True, kw_only=True)
class PaymentGatewayType(PluginType):
    """What a payment plugin yields from ``fbs_payment_gateways()``."""

    kind: str = "payment"


@dataclass(frozen=True, kw_only=True)
class SupplierType(PluginType):
    """What a supplier plugin yields from ``fbs_suppliers()``: one kind of warehouse API."""

    kind: str = "supplier"
