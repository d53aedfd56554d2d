"""Build a real engine on a real database around fake (or real) plugins, for tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from ..config import Settings
from ..db import Database
from ..db.migrate import upgrade
from ..db.types import utcnow
from ..engine import Engine
from ..plugins import build_runtime, make_plugin_manager

FAKES = "fbs_core.testing.fakes"


def build_engine(
    database_url: str,
    config: dict[str, Any],
    *,
    modules: Iterable[str] = (FAKES,),
    load_entrypoints: bool = False,
    clock: Callable[[], datetime] = utcnow,
) -> Engine:
    """An engine for ``config`` (a dict shaped like fbs.toml) on a migrated database.

    The fake plugins are registered by default; extra plugin modules (say, one that
    raises in every hook) can be added through ``modules``.
    """
    plugins = dict(config.get("plugins", {}))
    plugins["modules"] = [*plugins.get("modules", []), *modules]
    settings = Settings.model_validate({**config, "database_url": database_url, "plugins": plugins})
    pm = make_plugin_manager(load_entrypoints=load_entrypoints, modules=settings.plugins.modules)
    runtime = build_runtime(settings, pm)
    db = Database(database_url)
    upgrade(db)
    return Engine(runtime, db, clock=clock)


def basic_config(
    *, ledger: str = "default", market: str = "default", **fulfillment: Any
) -> dict[str, Any]:
    """One fake channel, two fake warehouses (east and west) and a fake gateway."""
    return {
        "fulfillment": fulfillment,
        "scheduler": {"workers": 4, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.05},
        "channels": {
            "shop": {"type": "fake-channel", "options": {"ledger": ledger, "market": market}}
        },
        "suppliers": {
            "east": {
                "type": "fake-supplier",
                "options": {"ledger": ledger, "ship_from_zip": "07102", "generated_stock_seed": 1},
            },
            "west": {
                "type": "fake-supplier",
                "options": {"ledger": ledger, "ship_from_zip": "90001", "generated_stock_seed": 2},
            },
        },
        "payments": {"card": {"type": "fake-payment", "options": {"ledger": ledger}}},
    }
