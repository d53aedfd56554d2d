"""Every hook spec is named ``fbs_*`` and documented for plugin authors."""

from __future__ import annotations

import inspect
import re

import pytest

from fbs_core.hookspecs import FbsSpecs
from fbs_core.plugins import KINDS, make_plugin_manager

SPECS = sorted(
    name
    for name, member in inspect.getmembers(FbsSpecs, inspect.isfunction)
    if hasattr(member, "fbs_spec")
)


def test_there_are_specs_and_the_manager_knows_them_all():
    pm = make_plugin_manager(load_entrypoints=False)
    assert SPECS
    known = {name for name, caller in vars(pm.hook).items() if caller.has_spec()}
    assert set(SPECS) <= known


def test_every_registration_kind_has_its_spec():
    assert {kind.hook for kind in KINDS} <= set(SPECS)


@pytest.mark.parametrize("name", SPECS)
def test_spec_name_has_the_fbs_prefix(name):
    assert name.startswith("fbs_")


@pytest.mark.parametrize("name", SPECS)
def test_spec_has_a_google_docstring_with_an_example(name):
    doc = inspect.getdoc(getattr(FbsSpecs, name))
    assert doc, f"{name} has no docstring"
    summary, _, body = doc.partition("\n")
    assert summary.strip().endswith("."), f"{name}: the summary line is one sentence"
    assert re.search(r"^Example:\n\s+", doc, re.MULTILINE), f"{name}: no 'Example:' section"
    assert f"def {name}(" in body, f"{name}: the example shows the hook implemented"
