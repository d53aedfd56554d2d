"""The live objects one fbs process works with, built from settings and plugins."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .adapters import OrderSource, PaymentGateway, Supplier, TrackingSink
    from .config import Settings
    from .plugins import FbsPluginManager


@dataclass
class Runtime:
    """Settings, the plugin manager and one adapter per enabled configured instance."""

    settings: Settings
    pm: FbsPluginManager
    channels: dict[str, OrderSource] = field(default_factory=dict)
    suppliers: dict[str, Supplier] = field(default_factory=dict)
    payments: dict[str, PaymentGateway] = field(default_factory=dict)
    tracking: dict[str, TrackingSink] = field(default_factory=dict)

    def close(self) -> None:
        """Close every adapter; one failing close does not stop the others."""
        for group in (self.channels, self.suppliers, self.payments, self.tracking):
            for adapter in group.values():
                try:
                    adapter.close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    adapter.log.warning("close failed", exc_info=True)
