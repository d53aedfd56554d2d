"""The live objects one fbs process works with, built from settings and plugins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .ratelimits import LimiterRegistry

if TYPE_CHECKING:
    from .adapters import AppWebhookHandler, OrderSource, PaymentGateway, Supplier, TrackingSink
    from .config import Settings
    from .plugins import FbsPluginManager, Registry


@dataclass
class Runtime:
    """Settings, the plugin manager and one adapter per enabled configured instance."""

    settings: Settings
    pm: FbsPluginManager
    channels: dict[str, OrderSource] = field(default_factory=dict)
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    payments: dict[str, PaymentGateway] = field(default_factory=dict)
    tracking: dict[str, TrackingSink] = field(default_factory=dict)
    registry: Registry | None = None
    """The plugin types the instances were built from."""
    limiters: LimiterRegistry = field(default_factory=LimiterRegistry)
    """One rate limiter per remote account the adapters declared limits for."""

    def app_webhooks(self) -> dict[str, tuple[AppWebhookHandler, dict[str, OrderSource]]]:
        """Channel types in use that serve an app-level webhook, each with its instances."""
        endpoints: dict[str, tuple[AppWebhookHandler, dict[str, OrderSource]]] = {}
        if self.registry is None:
            return endpoints
        for name, channel in self.channels.items():
            type_name = self.settings.channels[name].type.strip().lower()
            ptype = self.registry.order_sources.get(type_name)
            if ptype is not None and ptype.app_webhook is not None:
                endpoints.setdefault(type_name, (ptype.app_webhook, {}))[1][name] = channel
        return endpoints

    def close(self) -> None:
        """Close every adapter; one failing close does not stop the others."""
        for group in (self.channels, self.suppliers, self.payments, self.tracking):
            for adapter in group.values():
                try:
                    adapter.close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    adapter.log.warning("close failed", exc_info=True)
