"""Registers ``fake-ok`` (taken by fbs-fake-plugin) and ``fake-fork`` (its own)."""

from fbs_fake_plugin.ok import FakeOptions, FakeSupplier

import fbs_core
from fbs_core.types import SupplierType


@fbs_core.hookimpl
def fbs_suppliers():
    yield SupplierType(name="fake-ok", options_model=FakeOptions, factory=FakeSupplier)
    yield SupplierType(name="fake-fork", options_model=FakeOptions, factory=FakeSupplier)
