"""A local WooCommerce store that speaks REST API v3 the way the official docs describe it.

What it serves (``specs/woocommerce/rest-api-docs-v3``):

* ``GET /wp-json/wc/v3/orders`` with ``status`` (comma list), ``modified_after``,
  ``modified_before``, ``dates_are_gmt``, ``orderby``, ``order``, ``page``, ``per_page``
  (1 to 100, else 400 ``rest_invalid_param``) and the ``X-WP-Total``/``X-WP-TotalPages``
  headers;
* ``GET``/``PUT /wp-json/wc/v3/orders/<id>`` (``status``, ``meta_data``, ``customer_note``);
* ``GET``/``POST /wp-json/wc/v3/orders/<id>/notes`` (``type`` = any, customer, internal);
* the Shipment Tracking extension when ``shipment_tracking=True``; otherwise its routes
  answer 404 ``rest_no_route``, as a store without the extension does. Its routes are the
  ones the extension's REST API documentation describes (woocommerce.com, Shipment
  Tracking → Developer Docs: "Create a tracking item with the Shipment Tracking REST API",
  "Create a custom-provider tracking item", "Understand Shipment Tracking REST API
  responses", "List Shipment Tracking providers"; and the WooCommerce documentation gist
  ``woogist/woocommerce-shipment-tracking-rest-api-doc.md``), every one under an order:
  ``GET``/``POST /wp-json/wc-shipment-tracking/v3/orders/<order_id>/shipment-trackings``
  (list; create from ``tracking_number`` plus ``tracking_provider``, or
  ``custom_tracking_provider`` + ``custom_tracking_link``, and optional ``date_shipped``
  ``YYYY-MM-DD``: 201 with a ``Location`` header),
  ``GET``/``DELETE .../shipment-trackings/<tracking_id>`` and
  ``GET .../shipment-trackings/providers`` (provider names by region, no authentication).
  An item is ``{tracking_id, tracking_provider, tracking_link, tracking_number,
  date_shipped}``, with the provider's display name and the expanded link. One providers
  page shows the path without ``orders/<order_id>/``; the extension registers it under an
  order, as WooCommerce's own apps call it, so that is the one served.

The parts live in private modules: ``_auth`` (OAuth 1.0a and Basic authentication, as
``WC_REST_Authentication`` does it), ``_store`` (orders, notes, trackings, counters, request
accounting and fault injection), ``_routes`` (the HTTP API), ``_webhooks`` (signed deliveries) and
``_errors`` (WordPress's error bodies, ``{code, message, data: {status}}``, the shape the
REST docs' introduction shows).
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette

from ._auth import OAUTH_REQUIRED, OAUTH_WINDOW_SECONDS, _Authentication, oauth_signature
from ._routes import ORDERBY, TRACKING_PROVIDERS, _Routes
from ._store import ADDRESS_KEYS, ORDER_STATUSES, _Fault, _Store
from ._webhooks import _Webhooks, webhook_signature

__all__ = [
    "ADDRESS_KEYS",
    "OAUTH_REQUIRED",
    "OAUTH_WINDOW_SECONDS",
    "ORDERBY",
    "ORDER_STATUSES",
    "TRACKING_PROVIDERS",
    "WooCommerceImitation",
    "oauth_signature",
    "webhook_signature",
]


class WooCommerceImitation(_Store, _Webhooks, _Routes, _Authentication):
    """An in-memory WooCommerce store served as a Starlette app (``.app``).

    Thread-safe: tests and the demo call the Python API from their own threads while the
    app serves requests on the server's event loop.

    Args:
        consumer_key: the REST API key the store accepts (``ck_...``).
        consumer_secret: its secret (``cs_...``).
        shipment_tracking: whether the Shipment Tracking extension is installed.
        site_utc_offset: the store's timezone; the non-``_gmt`` dates use it.
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        shipment_tracking: bool = True,
        site_utc_offset: timedelta = timedelta(hours=-5),
    ) -> None:
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.shipment_tracking = shipment_tracking
        self.site_utc_offset = site_utc_offset
        self.site_url = "http://127.0.0.1"
        """Base URL used in ``_links`` and webhook headers; learnt from the first request."""
        self._lock = threading.RLock()
        self._orders: dict[int, dict[str, Any]] = {}
        self._notes: dict[int, list[dict[str, Any]]] = {}
        self._trackings: dict[int, list[dict[str, Any]]] = {}
        self._faults: deque[_Fault] = deque()
        self._nonces: dict[str, float] = {}
        self._next_order_id = 1000
        self._next_item_id = 5000
        self._next_note_id = 9000
        self._next_meta_id = 20000
        self._products: dict[str, int] = {}
        self._tracking_pushes: list[tuple[int, str]] = []
        self._completed: list[int] = []
        self._duplicates = 0
        self._request_times: list[float] = []
        self._in_flight = 0
        self._most_in_flight = 0
        self._clients: set[tuple[str, int]] = set()
        self.app = Starlette(routes=self._routes())
