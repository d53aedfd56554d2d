"""Hook implementations for fbs-supplier-http (the ``fbs`` entry point target)."""

from __future__ import annotations

from collections.abc import Iterator

import fbs_core
from fbs_core.types import SupplierType

from .supplier import HttpSupplier, HttpSupplierOptions


@fbs_core.hookimpl
def fbs_suppliers() -> Iterator[SupplierType]:
    """Register the ``http`` supplier type: any warehouse implementing openapi.yaml."""
    yield SupplierType(
        name="http",
        description="A warehouse speaking the fbs warehouse REST API (openapi.yaml)",
        options_model=HttpSupplierOptions,
        factory=HttpSupplier,
    )
