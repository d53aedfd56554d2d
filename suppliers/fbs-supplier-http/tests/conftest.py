"""Fixtures: a warehouse imitation served on 127.0.0.1, checked against openapi.yaml.

Every exchange with the imitation passes through a ConformanceRecorder; when a test ends,
each request the plugin sent and each answer the imitation gave is validated against the
API document, so a test that passes also proves both sides kept the contract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from fbs_sandbox.serving import RunningServer, serve
from fbs_sandbox.warehouse import StockItem, WarehouseImitation
from fbs_supplier_http.conformance import ConformanceRecorder, ContractChecker, Exchange
from fbs_supplier_http.supplier import HttpSupplier

API_KEY = "wh_test_5f0c2b7e9a41"
SHIP_FROM_ZIP = "75201"


def default_stock() -> dict[str, StockItem]:
    return {
        "BR-1043": StockItem(quantity=12, unit_cost_cents=4599, weight_grams=3200),
        "AC-221-REMAN": StockItem(
            quantity=3, unit_cost_cents=18900, core_charge_cents=5000, weight_grams=7400
        ),
        "OF-77": StockItem(quantity=0, unit_cost_cents=899, weight_grams=400),
    }


@dataclass
class Rig:
    """One warehouse imitation on a live port, and the suppliers pointed at it."""

    warehouse: WarehouseImitation
    server: RunningServer
    recorder: ConformanceRecorder
    suppliers: list[HttpSupplier] = field(default_factory=list)
    api_key: str = API_KEY
    tolerated_bad_responses: int = 0
    """Answers a test breaks on purpose (``malformed_next``); excused from the check."""

    def supplier(self, name: str = "east", **overrides: Any) -> HttpSupplier:
        options = {
            "base_url": self.server.url,
            "api_key": API_KEY,
            "ship_from_zip": SHIP_FROM_ZIP,
            "timeout": 5.0,
            **overrides,
        }
        built = HttpSupplier(name, options)
        self.suppliers.append(built)
        return built

    def requests(self, method: str, path: str) -> list[Exchange]:
        """Exchanges with this method and exact path, oldest first."""
        return [x for x in self.recorder.exchanges if x.method == method and x.path == path]


@pytest.fixture(scope="session")
def checker() -> ContractChecker:
    return ContractChecker()


@pytest.fixture
def make_rig(checker: ContractChecker) -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def build(**kwargs: Any) -> Rig:
        kwargs.setdefault("stock", default_stock())
        warehouse = WarehouseImitation("East Coast Parts", API_KEY, **kwargs)
        recorder = ConformanceRecorder(warehouse.app)
        rig = Rig(warehouse, serve(recorder), recorder)
        rigs.append(rig)
        return rig

    yield build
    for rig in rigs:
        for supplier in rig.suppliers:
            supplier.close()
        rig.server.stop()
    for rig in rigs:
        exchanges = rig.recorder.exchanges
        request_problems = checker.problems(exchanges, responses=False)
        assert request_problems == [], "\n".join(request_problems)
        response_problems = [p for x in exchanges for p in checker.response_problems(x)]
        assert len(response_problems) == rig.tolerated_bad_responses, "\n".join(response_problems)


@pytest.fixture
def rig(make_rig: Callable[..., Rig]) -> Rig:
    return make_rig()
