"""The webhook endpoints of a folder of merchants: one address, a path per merchant.

``fbs run --config-dir`` serves one webhook server for every merchant. A delivery for
merchant ``acme`` goes to ``/merchants/acme/webhooks/<channel>`` (and app-level ones to
``/merchants/acme/app-webhooks/<type>``); the rest of the path is handed to that
merchant's own app from :func:`fbs_core.server.create_webhook_app`, exactly as a
single-merchant ``fbs run`` serves it. A merchant's app is rebuilt when its config is
reloaded, so a new channel or secret is served without a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from .server import create_webhook_app

if TYPE_CHECKING:
    from .engine import Engine
    from .fleet import Fleet

MERCHANTS_PREFIX = "merchants"


class MerchantWebhooks:
    """ASGI app routing ``/merchants/<id>/<rest>`` to merchant ``<id>``'s webhook app."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self._apps: dict[str, tuple[Engine, Any]] = {}

    def _app_for(self, merchant_id: str) -> Any | None:
        merchant = self.fleet.merchants.get(merchant_id)
        if merchant is None:
            return None
        engine = merchant.engine
        cached = self._apps.get(merchant_id)
        if cached is None or cached[0] is not engine:
            app = create_webhook_app(
                engine.runtime.channels,
                engine.request_poll,
                app_webhooks=engine.runtime.app_webhooks(),
                on_privacy=engine.apply_privacy,
            )
            cached = (engine, app)
            self._apps[merchant_id] = cached
        return cached[1]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Hand a request to its merchant's app; 404 for a merchant not served."""
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path == "/healthz":
            await JSONResponse({"ok": True, "merchants": sorted(self.fleet.merchants)})(
                scope, receive, send
            )
            return
        parts = path.split("/", 3)  # "", "merchants", "<id>", "<rest>"
        app = None
        if len(parts) == 4 and parts[1] == MERCHANTS_PREFIX:
            app = self._app_for(parts[2])
        if app is None:
            await JSONResponse({"error": "no such merchant"}, status_code=404)(scope, receive, send)
            return
        await app({**scope, "path": "/" + parts[3], "raw_path": None}, receive, send)
