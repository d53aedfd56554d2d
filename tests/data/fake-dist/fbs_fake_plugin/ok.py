"""A well-behaved plugin: one supplier type and an order-imported listener."""

from __future__ import annotations

import threading

from pydantic import BaseModel, ConfigDict, SecretStr

import fbs_core
from fbs_core.adapters import Supplier
from fbs_core.errors import AuthError
from fbs_core.types import SupplierType

RELEASE = threading.Event()
"""Set by a test to end every ``check()`` still waiting out its ``check_seconds``."""

IMPORTED: list[str] = []
"""Order numbers this plugin was told about through ``fbs_order_imported``."""


class FakeOptions(BaseModel):
    """Options of the ``fake-ok`` supplier type."""

    model_config = ConfigDict(extra="forbid")

    base_url: str
    api_key: SecretStr
    reject_credentials: bool = False
    check_seconds: float = 0
    """How long ``check()`` waits before answering: a store that never answers."""
    note: str | None = None
    """What ``check()`` says when it passes."""


class FakeSupplier(Supplier):
    """A supplier whose ``check()`` fails when told to; nothing else is used by tests."""

    def check(self) -> str | None:
        if self.options.check_seconds:
            RELEASE.wait(self.options.check_seconds)
        if self.options.reject_credentials:
            raise AuthError("the warehouse refused the API key")
        return self.options.note

    def offers(self, skus):
        return []

    def place_order(self, request):
        raise NotImplementedError

    def fetch_shipments(self, cursor):
        raise NotImplementedError

    def cancel_order(self, po_number):
        raise NotImplementedError


@fbs_core.hookimpl
def fbs_suppliers():
    yield SupplierType(name="fake-ok", options_model=FakeOptions, factory=FakeSupplier)


@fbs_core.hookimpl
def fbs_order_imported(order):
    IMPORTED.append(order)
