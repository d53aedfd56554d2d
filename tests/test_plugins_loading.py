"""Plugin loading, isolation, blocking, conflicts, the registry and the runtime build.

``tests/data/fake-dist`` looks like an installed distribution ``fbs-fake-plugin 1.0`` with
four ``fbs`` entry points: ``fbs-fake-ok`` (a good supplier type), ``fbs-fake-importerror``,
``fbs-fake-typo`` (hook ``fbs_supplier``) and ``fbs-fake-raising`` (raises in every hook).
``tests/data/fake-dist-fork`` is ``fbs-fake-fork 0.3``, which claims the same type name.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict, SecretStr

import fbs_core
from fbs_core.cli import main
from fbs_core.config import InstanceSettings, Settings
from fbs_core.default_plugins import DEFAULT_PLUGINS
from fbs_core.domain import Address, Money
from fbs_core.errors import ConfigError
from fbs_core.plugins import build_registry, build_runtime, describe_plugins, make_plugin_manager
from fbs_core.testing.contracts import SupplierContract
from fbs_core.types import SupplierType

DATA = Path(__file__).parent / "data"
FAKES = "fbs-fake-ok,fbs-fake-importerror,fbs-fake-typo,fbs-fake-raising"
SECRET = "sk_fake_must-stay-hidden-777"


@pytest.fixture
def fake_dist(installed_fake_dist, monkeypatch):
    """The fake distribution installed, and only its entry points allowed to load."""
    installed_fake_dist(DATA / "fake-dist")
    monkeypatch.setenv("FBS_LOAD_PLUGINS", FAKES)
    monkeypatch.delenv("FBS_BLOCK_PLUGINS", raising=False)


def failures_of(pm, registry=None):
    found = [*pm.failures, *(registry.failures if registry else [])]
    return {(f.plugin, f.stage): f for f in found}


def estimate_args():
    destination = Address(city="Austin", region="TX", postal_code="78701", country="US")
    return {
        "origin_zip": "10001",
        "destination": destination,
        "weight_grams": 500,
        "currency": "USD",
    }


# -- loading -------------------------------------------------------------------------


def test_the_good_plugin_is_loaded_with_its_distribution(fake_dist):
    pm = make_plugin_manager()
    registry = build_registry(pm)

    assert pm.get_plugin("fbs-fake-ok") is not None
    assert pm.sources["fbs-fake-ok"] == ("fbs-fake-plugin", "1.0")
    assert set(registry.suppliers) == {"fake-ok"}
    assert registry.suppliers["fake-ok"].name == "fake-ok"
    assert registry.providers[("supplier", "fake-ok")] == ["fbs-fake-ok"]


def test_each_broken_plugin_is_recorded_with_its_name_and_stage(fake_dist):
    pm = make_plugin_manager()
    registry = build_registry(pm)
    failures = failures_of(pm, registry)

    registration = (
        "fbs_order_sources",
        "fbs_tracking_sinks",
        "fbs_payment_gateways",
        "fbs_suppliers",
    )
    assert set(failures) == {
        ("fbs-fake-importerror", "load"),
        ("fbs-fake-typo", "validate"),
        *(("fbs-fake-raising", hook) for hook in registration),
    }
    load = failures[("fbs-fake-importerror", "load")]
    assert "fbs_fake_dependency_that_is_not_installed" in load.error
    assert (load.distribution, load.version) == ("fbs-fake-plugin", "1.0")
    assert "fbs_supplier" in failures[("fbs-fake-typo", "validate")].error
    assert "registration exploded" in failures[("fbs-fake-raising", "fbs_suppliers")].error
    assert pm.get_plugin("fbs-fake-importerror") is None
    assert pm.get_plugin("fbs-fake-typo") is None  # unregistered, so it can never half-work


def test_blocking_prevents_the_import(fake_dist, monkeypatch):
    assert "fbs_fake_plugin.ok" not in sys.modules
    pm = make_plugin_manager(blocked=["fbs-fake-ok"])
    assert pm.is_blocked("fbs-fake-ok")
    assert "fbs_fake_plugin.ok" not in sys.modules
    assert "fake-ok" not in build_registry(pm).suppliers

    monkeypatch.setenv("FBS_BLOCK_PLUGINS", "fbs-fake-importerror, fbs-fake-typo")
    pm = make_plugin_manager()
    assert pm.is_blocked("fbs-fake-importerror") and pm.is_blocked("fbs-fake-typo")
    assert set(failures_of(pm)) == set()  # nothing was imported, so nothing failed


def test_fbs_load_plugins_is_an_allow_list(fake_dist, monkeypatch):
    monkeypatch.setenv("FBS_LOAD_PLUGINS", "fbs-fake-ok")
    pm = make_plugin_manager()
    assert pm.get_plugin("fbs-fake-ok") is not None
    assert pm.failures == []

    monkeypatch.setenv("FBS_LOAD_PLUGINS", "")
    pm = make_plugin_manager()
    assert [name for name, _ in pm.list_name_plugin()] == list(DEFAULT_PLUGINS)


def test_modules_are_imported_and_registered_by_dotted_path(installed_fake_dist):
    installed_fake_dist(DATA / "fake-dist")
    pm = make_plugin_manager(
        load_entrypoints=False,
        modules=["fbs_fake_plugin.ok", "fbs_fake_plugin.importerror", "no_such_package.plugin"],
    )
    assert pm.get_plugin("fbs_fake_plugin.ok") is not None
    assert "fake-ok" in build_registry(pm).suppliers
    assert {(f.plugin, f.stage) for f in pm.failures} == {
        ("fbs_fake_plugin.importerror", "load"),
        ("no_such_package.plugin", "load"),
    }


def test_a_module_also_loaded_by_its_entry_point_is_registered_once(fake_dist, monkeypatch):
    monkeypatch.setenv("FBS_LOAD_PLUGINS", "fbs-fake-ok")
    pm = make_plugin_manager(modules=["fbs_fake_plugin.ok"])
    assert pm.get_plugin("fbs-fake-ok") is not None
    assert pm.get_plugin("fbs_fake_plugin.ok") is None
    assert pm.failures == []


# -- calling hooks in isolation --------------------------------------------------------


def test_decide_skips_a_raising_impl_and_returns_the_next_answer(fake_dist, fbs_pm):
    default_answer = fbs_pm.decide("fbs_shipping_estimate", **estimate_args())
    assert isinstance(default_answer, Money)  # the core's trylast default
    pm = make_plugin_manager()  # adds fbs-fake-raising, whose estimate raises

    with pytest.raises(RuntimeError, match="estimate exploded"):  # what bare pluggy does
        pm.hook.fbs_shipping_estimate(**estimate_args())
    assert pm.decide("fbs_shipping_estimate", **estimate_args()) == default_answer
    assert pm.decide("fbs_shipping_estimate", **estimate_args()) == default_answer

    failure = failures_of(pm)[("fbs-fake-raising", "fbs_shipping_estimate")]
    assert "estimate exploded" in failure.error
    assert failure.count == 2  # repeated failures are counted, not piled up


def test_decide_follows_tryfirst_normal_trylast_order():
    pm = make_plugin_manager(load_entrypoints=False, blocked=DEFAULT_PLUGINS)
    calls = []

    class First:
        @fbs_core.hookimpl(tryfirst=True)
        def fbs_shipping_estimate(self):
            calls.append("first")
            raise ValueError("broken first")

    class Abstains:
        @fbs_core.hookimpl
        def fbs_shipping_estimate(self, weight_grams):
            calls.append("abstains")
            return None

    class Last:
        @fbs_core.hookimpl(trylast=True)
        def fbs_shipping_estimate(self, currency):
            calls.append("last")
            return Money(cents=1234, currency=currency)

    pm.register(Last(), name="last")
    pm.register(Abstains(), name="abstains")
    pm.register(First(), name="first")

    assert pm.decide("fbs_shipping_estimate", **estimate_args()) == Money(cents=1234)
    assert calls == ["first", "abstains", "last"]
    assert [(f.plugin, f.stage) for f in pm.failures] == [("first", "fbs_shipping_estimate")]


def test_call_each_isolates_notification_impls(fake_dist):
    pm = make_plugin_manager()
    good = pm.get_plugin("fbs-fake-ok")
    good.IMPORTED.clear()

    failures = pm.call_each("fbs_order_imported", order="order-1", event="event-1")

    assert good.IMPORTED == ["order-1"]  # called with only the argument it asks for
    assert [(f.plugin, f.stage) for f in failures] == [("fbs-fake-raising", "fbs_order_imported")]
    assert "listener exploded" in failures[0].error


def test_a_broken_registration_hook_hides_nothing_else(fbs_pm):
    class Options(BaseModel):
        pass

    class Good:
        @fbs_core.hookimpl
        def fbs_suppliers(self):
            yield SupplierType(name="good", options_model=Options, factory=object)

    class HalfBroken:
        @fbs_core.hookimpl
        def fbs_suppliers(self):
            yield SupplierType(name="half", options_model=Options, factory=object)
            raise RuntimeError("boom")

    fbs_pm.register(Good(), name="good")
    fbs_pm.register(HalfBroken(), name="half-broken")
    found, failures = fbs_pm.collect("fbs_suppliers")

    assert set(found) == {"good"}
    assert [(f.plugin, f.stage, f.error) for f in failures] == [
        ("half-broken", "fbs_suppliers", "RuntimeError: boom")
    ]


def test_a_record_of_the_wrong_kind_is_reported(fbs_pm):
    class Wrong:
        @fbs_core.hookimpl
        def fbs_order_sources(self):
            yield SupplierType(name="mixed-up", options_model=BaseModel, factory=object)

    fbs_pm.register(Wrong(), name="wrong")
    registry = build_registry(fbs_pm)
    assert registry.order_sources == {}
    assert [(f.plugin, f.stage, f.error) for f in registry.failures] == [
        ("wrong", "fbs_order_sources", "yielded SupplierType, expected OrderSourceType")
    ]


# -- conflicts -------------------------------------------------------------------------


def test_a_type_name_from_two_distributions_is_a_conflict(installed_fake_dist, monkeypatch):
    installed_fake_dist(DATA / "fake-dist")
    installed_fake_dist(DATA / "fake-dist-fork")
    monkeypatch.setenv("FBS_LOAD_PLUGINS", "fbs-fake-ok,fbs-fake-fork")
    pm = make_plugin_manager()
    registry = build_registry(pm)

    assert "fake-ok" not in registry.suppliers  # neither provider wins by load order
    assert "fake-fork" in registry.suppliers
    conflicts = {f.plugin: f.error for f in registry.failures if f.stage == "conflict"}
    assert set(conflicts) == {"fbs-fake-ok", "fbs-fake-fork"}
    for message in conflicts.values():
        assert message.startswith("supplier type 'fake-ok' is provided by ")
        assert "fbs-fake-plugin 1.0" in message and "fbs-fake-fork 0.3" in message

    unused = Settings(suppliers={"w": InstanceSettings(type="fake-fork", options=OK_OPTIONS)})
    assert set(build_runtime(unused, pm, registry).suppliers) == {"w"}
    used = Settings(suppliers={"w": InstanceSettings(type="fake-ok", options=OK_OPTIONS)})
    with pytest.raises(ConfigError) as info:
        build_runtime(used, pm, registry)
    assert "suppliers.w.type: supplier type 'fake-ok' is provided by" in str(info.value)
    assert "fbs-fake-fork 0.3" in str(info.value)
    assert "[plugins] block" in str(info.value)


# -- building the runtime ----------------------------------------------------------------

OK_OPTIONS = {"base_url": "https://east.example.test", "api_key": SECRET}


@pytest.fixture
def ok_pm(installed_fake_dist):
    installed_fake_dist(DATA / "fake-dist")
    return make_plugin_manager(load_entrypoints=False, modules=["fbs_fake_plugin.ok"])


def settings_with(tmp_path, **suppliers):
    return Settings(
        suppliers={name: InstanceSettings(**table) for name, table in suppliers.items()},
        config_path=tmp_path / "fbs.toml",
    )


def runtime_error(settings, pm):
    with pytest.raises(ConfigError) as info:
        build_runtime(settings, pm)
    return str(info.value)


def test_enabled_instances_become_adapters(ok_pm, tmp_path):
    from fbs_fake_plugin.ok import FakeSupplier

    settings = settings_with(
        tmp_path,
        east={"type": "fake-ok", "options": {**OK_OPTIONS, "api_key": SecretStr(SECRET)}},
        west={"type": "FAKE-OK", "options": OK_OPTIONS},
        off={"type": "no-such-type", "enabled": False},
    )
    runtime = build_runtime(settings, ok_pm)

    assert set(runtime.suppliers) == {"east", "west"}
    assert runtime.channels == runtime.payments == runtime.tracking == {}
    east = runtime.suppliers["east"]
    assert isinstance(east, FakeSupplier)
    assert east.name == "east"
    assert east.options.api_key.get_secret_value() == SECRET
    assert runtime.pm is ok_pm and runtime.settings is settings


def test_an_unknown_type_suggests_the_installed_ones(ok_pm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    message = runtime_error(settings_with(tmp_path, east={"type": "fake-k"}), ok_pm)
    assert message == (
        "fbs.toml: suppliers.east.type: unknown supplier type 'fake-k'; installed: fake-ok; "
        "did you mean 'fake-ok'?"
    )


def test_an_unknown_type_mentions_plugins_that_failed_to_load(installed_fake_dist, tmp_path):
    installed_fake_dist(DATA / "fake-dist")
    pm = make_plugin_manager(load_entrypoints=False, modules=["fbs_fake_plugin.importerror"])
    message = runtime_error(settings_with(tmp_path, east={"type": "acme"}), pm)
    assert "unknown supplier type 'acme'; installed: none" in message
    assert "fbs_fake_plugin.importerror failed to load; see 'fbs plugins'" in message


def test_option_errors_name_each_key_and_never_show_a_secret(ok_pm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = settings_with(
        tmp_path,
        east={
            "type": "fake-ok",
            "options": {"api_kee": "x", "reject_credentials": SecretStr(SECRET)},
        },
        west={"type": "fake-ok", "options": OK_OPTIONS},
    )
    message = runtime_error(settings, ok_pm)
    assert SECRET not in message
    lines = message.splitlines()
    assert "fbs.toml: suppliers.east.options.api_kee: unknown key; did you mean 'api_key'?" in lines
    assert "fbs.toml: suppliers.east.options.base_url: Field required" in lines
    assert "fbs.toml: suppliers.east.options.api_key: Field required" in lines
    assert any(
        line.startswith("fbs.toml: suppliers.east.options.reject_credentials: ") for line in lines
    )
    assert len(lines) == 4  # west is fine; every problem of east is listed


def test_a_factory_that_raises_is_reported_with_instance_and_plugin(fbs_pm, tmp_path):
    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        token: SecretStr

    def explode(name, options):
        raise ValueError(f"cannot use token {options.token.get_secret_value()}")

    def not_a_supplier(name, options):
        return object()

    class Plugin:
        @fbs_core.hookimpl
        def fbs_suppliers(self):
            yield SupplierType(name="explodes", options_model=Options, factory=explode)
            yield SupplierType(name="odd", options_model=Options, factory=not_a_supplier)

    fbs_pm.register(Plugin(), name="local-plugin")
    settings = settings_with(
        tmp_path,
        a={"type": "explodes", "options": {"token": SecretStr(SECRET)}},
        b={"type": "odd", "options": {"token": "t"}},
    )
    message = runtime_error(settings, fbs_pm)
    assert SECRET not in message
    assert message.splitlines() == [
        f"{tmp_path / 'fbs.toml'}: suppliers.a: plugin local-plugin could not build this supplier: "
        "ValueError: cannot use token **********",
        f"{tmp_path / 'fbs.toml'}: suppliers.b: plugin local-plugin built a object, not a Supplier",
    ]


# -- listing ---------------------------------------------------------------------------


def test_describe_plugins_lists_status_hooks_types_and_failures(fake_dist, monkeypatch):
    pm = make_plugin_manager(blocked=["fbs-fake-typo"])
    entries = {e["name"]: e for e in describe_plugins(pm, build_registry(pm))}

    assert entries["fbs-fake-ok"] == {
        "name": "fbs-fake-ok",
        "distribution": "fbs-fake-plugin",
        "version": "1.0",
        "builtin": False,
        "status": "active",
        "hooks": ["fbs_order_imported", "fbs_suppliers"],
        "provides": {"supplier": ["fake-ok"]},
        "failures": [],
    }
    assert entries["fbs-fake-typo"]["status"] == "blocked"
    assert entries["fbs-fake-importerror"]["status"] == "failed"
    assert entries["fbs-fake-importerror"]["failures"][0]["stage"] == "load"
    assert entries["fbs-fake-raising"]["status"] == "failed"
    assert sorted(f["stage"] for f in entries["fbs-fake-raising"]["failures"]) == [
        "fbs_order_sources",
        "fbs_payment_gateways",
        "fbs_suppliers",
        "fbs_tracking_sinks",
    ]
    assert all(entries[name]["builtin"] for name in DEFAULT_PLUGINS)


def test_fbs_plugins_json_names_the_culprits(fake_dist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no fbs.toml here: every installed plugin is listed
    monkeypatch.delenv("FBS_CONFIG", raising=False)
    result = CliRunner().invoke(main, ["plugins", "--json"])

    assert result.exit_code == 0, result.output
    entries = {e["name"]: e for e in json.loads(result.stdout)}
    assert not any(name in entries for name in DEFAULT_PLUGINS)  # only with --all
    assert entries["fbs-fake-ok"]["status"] == "active"
    assert entries["fbs-fake-ok"]["provides"] == {"supplier": ["fake-ok"]}
    culprits = {
        name: sorted((f["stage"], f["error"]) for f in entries[name]["failures"])
        for name in ("fbs-fake-importerror", "fbs-fake-raising")
    }
    [(stage, error)] = [(f["stage"], f["error"]) for f in entries["fbs-fake-typo"]["failures"]]
    assert stage == "validate"
    assert "unknown hook 'fbs_supplier'" in error
    assert culprits == {
        "fbs-fake-importerror": [
            (
                "load",
                "ModuleNotFoundError: No module named 'fbs_fake_dependency_that_is_not_installed'",
            )
        ],
        "fbs-fake-raising": sorted(
            (hook, "RuntimeError: registration exploded")
            for hook in (
                "fbs_order_sources",
                "fbs_tracking_sinks",
                "fbs_payment_gateways",
                "fbs_suppliers",
            )
        ),
    }

    everything = CliRunner().invoke(main, ["plugins", "--json", "--all"])
    assert {e["name"] for e in json.loads(everything.stdout)} >= set(DEFAULT_PLUGINS)


def test_fbs_plugins_table_shows_distribution_and_failures(fake_dist, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FBS_CONFIG", raising=False)
    result = CliRunner().invoke(main, ["plugins"])

    assert result.exit_code == 0, result.output
    assert "fbs-fake-plugin 1.0" in result.stdout
    assert "fake-ok" in result.stdout
    assert "RuntimeError: registration exploded" in result.stdout


# -- the contract kit, run on the good fake plugin ---------------------------------------


class TestFakeOkSupplierContract(SupplierContract):
    """The kit a plugin author uses, applied to the fake ``fbs-fake-ok`` plugin."""

    type_name = "fake-ok"
    sample_options = OK_OPTIONS

    @pytest.fixture(autouse=True)
    def _installed(self, installed_fake_dist):
        installed_fake_dist(DATA / "fake-dist")
        import fbs_fake_plugin.ok

        type(self).plugin = fbs_fake_plugin.ok


def leaky_plugin() -> types.ModuleType:
    """A plugin module whose adapter prints its API key in repr()."""
    from fbs_fake_plugin.ok import FakeOptions, FakeSupplier

    class LeakySupplier(FakeSupplier):
        def __repr__(self):
            return f"<LeakySupplier key={self.options.api_key.get_secret_value()}>"

    module = types.ModuleType("leaky_plugin")

    @fbs_core.hookimpl
    def fbs_suppliers():
        yield SupplierType(name="leaky", options_model=FakeOptions, factory=LeakySupplier)

    module.fbs_suppliers = fbs_suppliers
    return module


def test_the_contract_catches_a_secret_in_repr(installed_fake_dist, monkeypatch):
    installed_fake_dist(DATA / "fake-dist")

    class Leaky(SupplierContract):
        plugin = leaky_plugin()
        type_name = "leaky"
        sample_options = OK_OPTIONS

    Leaky().test_registers_exactly_type_name()
    Leaky().test_factory_builds_without_network(monkeypatch)
    with pytest.raises(AssertionError, match="secret option value is visible"):
        Leaky().test_no_secret_in_repr(monkeypatch)
    with pytest.raises(AssertionError, match="no 'fbs' entry point"):
        Leaky().test_entry_point_targets_plugin_and_loads()


def test_the_contract_catches_network_use_in_the_factory(installed_fake_dist, monkeypatch):
    installed_fake_dist(DATA / "fake-dist")
    import socket

    from fbs_fake_plugin.ok import FakeOptions, FakeSupplier

    class Phones(FakeSupplier):
        def __init__(self, name, options):
            super().__init__(name, options)
            socket.create_connection(("127.0.0.1", 9))

    module = types.ModuleType("phoning_plugin")

    @fbs_core.hookimpl
    def fbs_suppliers():
        yield SupplierType(name="phones", options_model=FakeOptions, factory=Phones)

    module.fbs_suppliers = fbs_suppliers

    class PhonesHome(SupplierContract):
        plugin = module
        type_name = "phones"
        sample_options = OK_OPTIONS

    with pytest.raises(AssertionError, match="factory tried to use the network"):
        PhonesHome().test_factory_builds_without_network(monkeypatch)
