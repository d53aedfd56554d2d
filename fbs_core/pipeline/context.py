"""What every pipeline step needs: database, adapters, plugin hooks, rules, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..adapters import OrderSource
from ..db.types import utcnow
from ..hookspecs import NOTIFICATION_HOOKS

if TYPE_CHECKING:
    from ..config import SchedulerSettings
    from ..db import Database
    from ..domain import FulfillmentRules
    from ..plugins import FbsPluginManager
    from ..runtime import Runtime


@dataclass
class PipelineContext:
    """Shared, read-only state of one pipeline (one merchant's configuration)."""

    db: Database
    runtime: Runtime
    merchant_id: str
    rules: FulfillmentRules
    scheduler: SchedulerSettings
    clock: Callable[[], datetime] = utcnow
    _notified_events: frozenset[str] | None = field(default=None, repr=False)
    _installation_id: str | None = field(default=None, repr=False)
    store_identities: dict[str, str] = field(default_factory=dict)
    """Channel instance name → the store identity it reported (see ``pipeline.stores``)."""
    backlogged: set[tuple[str, str]] = field(default_factory=set)
    """(kind, name) of the instances whose last stored poll said the remote has more."""

    @property
    def pm(self) -> FbsPluginManager:
        """The plugin manager."""
        return self.runtime.pm

    def now(self) -> datetime:
        """The current time (UTC); tests may pass a fake clock."""
        return self.clock()

    def installation_id(self) -> str:
        """This merchant's installation id in this database (made on first use)."""
        if self._installation_id is None:
            from .identifiers import ensure_installation_id

            self._installation_id = ensure_installation_id(self.db, self.merchant_id)
        return self._installation_id

    def notified_events(self) -> frozenset[str]:
        """Events some plugin listens to; others get no notify command at all."""
        if self._notified_events is None:
            self._notified_events = frozenset(
                event
                for event, hook in NOTIFICATION_HOOKS.items()
                if getattr(self.pm.hook, hook).get_hookimpls()
            )
        return self._notified_events

    def acknowledges(self, channel: str) -> bool:
        """True when the channel instance says something on an order fbs accepts.

        A channel that keeps the base class's no-op ``acknowledge_order`` gets no
        acknowledgement command at all; one no longer configured is asked anyway, so its
        command waits (held as ``instance_not_configured``) rather than being dropped.
        """
        adapter = self.runtime.channels.get(channel)
        if adapter is None:
            return True
        return type(adapter).acknowledge_order is not OrderSource.acknowledge_order

    def decide(self, hook_name: str, **kwargs: Any) -> Any:
        """Ask a firstresult decision hook, isolating plugins that raise."""
        return self.pm.decide(hook_name, **kwargs)
