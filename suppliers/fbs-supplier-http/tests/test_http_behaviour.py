"""The fbs warehouse API plugin against the behavioural contract checks."""

from __future__ import annotations

import json

import pytest

from fbs_core.adapters import Adapter, Supplier
from fbs_core.domain import Address, Money, PurchaseOrderLine, PurchaseOrderRequest
from fbs_core.testing.behaviour import HttpFailureContract, IdempotentPurchaseOrderContract
from fbs_supplier_http.supplier import HttpSupplier

API_KEY = "wh_test_5f0c2b7e9a41"


class TestHttpSupplierFailures(HttpFailureContract):
    def build_against(self, base_url: str) -> Adapter:
        return HttpSupplier(
            "east",
            {
                "base_url": base_url,
                "api_key": API_KEY,
                "ship_from_zip": "75201",
                "timeout": self.timeout_seconds,
            },
        )

    def exercise(self, adapter: Adapter) -> None:
        assert isinstance(adapter, Supplier)
        adapter.offers(["BR-1043"])

    def error_body(self, status: int) -> bytes:
        # the Error schema of openapi.yaml
        code = {401: "unauthorized", 429: "rate_limited"}.get(status, "invalid_request")
        return json.dumps({"error": {"code": code, "message": "refused"}}).encode()


class TestHttpSupplierIdempotence(IdempotentPurchaseOrderContract):
    @pytest.fixture(autouse=True)
    def _rig(self, make_rig):
        self.rig = make_rig(ship_delay_seconds=3600)

    def supplier(self) -> Supplier:
        return self.rig.supplier()

    def purchase_order(self) -> PurchaseOrderRequest:
        return PurchaseOrderRequest(
            po_number="fbs-7f3a-1042-1",
            supplier="east",
            order_reference="#1042",
            ship_to=Address(
                name="Dana Reyes",
                line1="1200 Elm St",
                city="Austin",
                region="TX",
                postal_code="78701",
                country="US",
            ),
            lines=(
                PurchaseOrderLine(
                    sku="BR-1043",
                    quantity=2,
                    unit_cost=Money(cents=4599),
                    core_charge=Money(cents=0),
                ),
            ),
        )

    def orders_at_warehouse(self, po_number: str) -> int:
        found = 1 if self.rig.warehouse.order(po_number) is not None else 0
        return found + self.rig.warehouse.duplicate_effects
