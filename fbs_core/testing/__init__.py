"""The fbs test kit for plugin authors.

* contract base classes: :mod:`fbs_core.testing.contracts` (``SupplierContract`` …);
* fixtures (registered as the ``fbs`` pytest plugin): ``fbs_pm``, ``installed_fake_dist``,
  ``fbs_database_url``, ``fbs_database``;
* fake plugins that count effects by idempotency key: :mod:`fbs_core.testing.fakes`;
* an engine on a real database around fake or real plugins: :mod:`fbs_core.testing.harness`.
"""

from __future__ import annotations

from .contracts import (
    OrderSourceContract,
    PaymentGatewayContract,
    SupplierContract,
    TrackingSinkContract,
)
from .ledger import EffectLedger

__all__ = [
    "EffectLedger",
    "OrderSourceContract",
    "PaymentGatewayContract",
    "SupplierContract",
    "TrackingSinkContract",
]
