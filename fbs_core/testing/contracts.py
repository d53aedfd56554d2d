"""Standard checks every plugin type should pass, with no network.

Subclass the matching contract in a test module under a ``Test`` name and set the class
attributes; pytest collects only the subclass (the bases have no ``Test`` prefix)::

    import fbs_supplier_example.plugin
    from fbs_core.testing.contracts import SupplierContract


    class TestExampleSupplier(SupplierContract):
        plugin = fbs_supplier_example.plugin
        type_name = "example"
        sample_options = {"base_url": "https://api.example.test", "api_key": "k"}

The checks: the ``fbs`` entry point exists, targets ``plugin`` and loads; the registration
hook yields exactly ``type_name`` as the right record class; ``options_model`` accepts
``sample_options`` and rejects an unknown key; ``factory`` builds without network I/O an
adapter of the right base class; and no secret from ``sample_options`` shows in the
``repr()``/``str()`` of the adapter or of its options.

:class:`PaymentGatewayContract` also checks that the gateway can look up charges and
refunds made earlier under a key (``find_charge``/``find_refund``), and, given a
``live_gateway`` fixture connected to a test service, how it behaves: a charge or refund
repeated under its key is one effect, and the lookups find exactly what was made.
"""

from __future__ import annotations

import importlib.metadata
import socket
import uuid
from types import ModuleType
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ValidationError

from ..adapters import Adapter, OrderSource, PaymentGateway, Supplier, TrackingSink
from ..config import secret_values
from ..domain import ChargeBreakdown, ChargeRequest, Money, RefundRequest
from ..errors import AdapterError
from ..plugins import ENTRY_POINT_GROUP, make_plugin_manager
from ..types import OrderSourceType, PaymentGatewayType, PluginType, SupplierType, TrackingSinkType

UNKNOWN_OPTION = "surely_not_an_option_of_this_plugin"


class NetworkBlocked(AssertionError):
    """Raised when code under a contract check tries to open a network connection."""


def _refuse_network(*args: Any, **kwargs: Any) -> Any:
    raise NetworkBlocked(f"tried to use the network: {args}")


class PluginContract:
    """What the four contracts share; subclass one of them, not this."""

    plugin: ClassVar[ModuleType]
    """The module the ``fbs`` entry point targets (``<package>.plugin``)."""
    type_name: ClassVar[str]
    """The type the plugin registers, as written in ``type =``."""
    sample_options: ClassVar[dict[str, Any]]
    """Options that must validate; secrets may be plain strings here."""
    entry_point_name: ClassVar[str | None] = None
    """The entry point's name, if the plugin's distribution has several in ``fbs``."""

    hook_name: ClassVar[str]
    record_class: ClassVar[type[PluginType]]
    adapter_class: ClassVar[type[Adapter]]

    # -- helpers ----------------------------------------------------------------

    def plugin_entry_point(self) -> importlib.metadata.EntryPoint:
        """The ``fbs`` entry point of this plugin (by name, else by target module)."""
        points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        if self.entry_point_name is not None:
            matches = [ep for ep in points if ep.name == self.entry_point_name]
        else:
            matches = [ep for ep in points if ep.module == self.plugin.__name__]
        assert matches, (
            f"no '{ENTRY_POINT_GROUP}' entry point "
            + (f"named {self.entry_point_name!r}" if self.entry_point_name else "")
            + f" targeting {self.plugin.__name__}; add it under [project.entry-points.fbs]"
        )
        return matches[0]

    def registered_records(self) -> list[PluginType]:
        """What the plugin's registration hook yields, called through a real manager."""
        pm = make_plugin_manager(load_entrypoints=False)
        name = f"contract:{self.plugin.__name__}"
        pm.register(self.plugin, name=name)
        pm.check_pending()
        found, failures = pm.collect(self.hook_name)
        assert not [f for f in failures if f.plugin == name], failures
        return [record for offers in found.values() for plugin, record in offers if plugin == name]

    def record(self) -> PluginType:
        """The registration record named ``type_name``."""
        matches = [r for r in self.registered_records() if r.name == self.type_name]
        assert matches, f"{self.hook_name}() does not yield a type named {self.type_name!r}"
        return matches[0]

    def options(self) -> BaseModel:
        """``sample_options`` validated by the type's options model."""
        return self.record().options_model.model_validate(self.sample_options)

    def build(self, monkeypatch: pytest.MonkeyPatch) -> Any:
        """Build the adapter with every outgoing connection and DNS lookup refused."""

        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise NetworkBlocked(f"{self.type_name}: factory tried to use the network: {args}")

        with monkeypatch.context() as patched:
            patched.setattr(socket.socket, "connect", refuse)
            patched.setattr(socket.socket, "connect_ex", refuse)
            patched.setattr(socket, "getaddrinfo", refuse)
            return self.record().factory("contract-test", self.options())

    # -- the checks -------------------------------------------------------------

    def test_entry_point_targets_plugin_and_loads(self) -> None:
        """The ``fbs`` entry point exists, points at ``plugin`` and loads it."""
        ep = self.plugin_entry_point()
        assert ep.module == self.plugin.__name__, f"{ep.name} targets {ep.value}"
        assert ep.load() is self.plugin

    def test_registers_exactly_type_name(self) -> None:
        """The registration hook yields ``type_name`` and nothing else, as the right record."""
        records = self.registered_records()
        assert [r.name for r in records] == [self.type_name]
        assert isinstance(records[0], self.record_class)

    def test_options_accept_sample_options(self) -> None:
        """``sample_options`` validate."""
        assert isinstance(self.options(), BaseModel)

    def test_options_reject_unknown_key(self) -> None:
        """A misspelled key in ``fbs.toml`` is an error, not a silent default."""
        model = self.record().options_model
        with pytest.raises(ValidationError) as info:
            model.model_validate({**self.sample_options, UNKNOWN_OPTION: 1})
        assert any(e["type"] == "extra_forbidden" for e in info.value.errors())

    def test_factory_builds_without_network(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Building an instance makes no connection and yields the right adapter class."""
        adapter = self.build(monkeypatch)
        assert isinstance(adapter, self.adapter_class)
        assert adapter.name == "contract-test"

    def test_no_secret_in_repr(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """No SecretStr value shows in repr()/str() of the adapter or its options."""
        options = self.options()
        adapter = self.build(monkeypatch)
        for secret in secret_values(options):
            for shown in (repr(adapter), str(adapter), repr(options), str(options)):
                assert secret not in shown, "a secret option value is visible"


class OrderSourceContract(PluginContract):
    """Checks for a channel plugin's ``fbs_order_sources()`` type."""

    hook_name = "fbs_order_sources"
    record_class = OrderSourceType
    adapter_class = OrderSource

    def test_store_identity_is_stable_and_names_the_platform(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """``store_identity()`` is the same for the same store, prefixed, short, secret-free.

        Skipped when the identity can only be asked of the store itself (no network here).
        """
        identities = []
        for _ in range(2):
            adapter = self.build(monkeypatch)
            with monkeypatch.context() as patched:
                patched.setattr(socket.socket, "connect", _refuse_network)
                patched.setattr(socket, "getaddrinfo", _refuse_network)
                try:
                    identities.append(adapter.store_identity())
                except (NetworkBlocked, AdapterError):
                    pytest.skip("the store identity is asked of the store; test it against one")
        first, second = identities
        if first is None:
            pytest.skip("this channel names no store: its orders are known by instance name")
        assert first == second, "the same options must name the same store"
        assert ":" in first and len(first) <= 255, f"{first!r}: '<platform>:<store>', ≤ 255"
        for secret in secret_values(self.options()):
            assert secret not in first, "a secret option value is in the store identity"


class TrackingSinkContract(PluginContract):
    """Checks for a ``fbs_tracking_sinks()`` type."""

    hook_name = "fbs_tracking_sinks"
    record_class = TrackingSinkType
    adapter_class = TrackingSink


class PaymentGatewayContract(PluginContract):
    """Checks for a payment plugin's ``fbs_payment_gateways()`` type.

    To run the behaviour checks, define a ``live_gateway`` fixture in the subclass that
    returns the gateway connected to a test service (a sandbox account or a local
    imitation) on which ``charge_amount`` in ``charge_currency`` succeeds; without it
    those checks are skipped.
    """

    hook_name = "fbs_payment_gateways"
    record_class = PaymentGatewayType
    adapter_class = PaymentGateway

    finds_earlier_effects: ClassVar[bool] = True
    """Set False if the gateway cannot look effects up by key: the core then stops every
    charge or refund retried past the gateway's idempotency window and asks the merchant
    to check it by hand."""
    charge_amount: ClassVar[int] = 2500
    charge_currency: ClassVar[str] = "USD"

    @pytest.fixture
    def live_gateway(self) -> PaymentGateway:
        """Override: the gateway connected to a test service."""
        pytest.skip("define a live_gateway fixture to run the payment behaviour checks")

    def charge_request(self) -> ChargeRequest:
        """A charge of ``charge_amount`` under a key no earlier test run used."""

        def money(cents: int) -> Money:
            return Money(cents=cents, currency=self.charge_currency)

        key = f"contract-charge-{uuid.uuid4().hex}"
        return ChargeRequest(
            idempotency_key=key,
            order_id=1,
            order_reference="#contract",
            amount=money(self.charge_amount),
            breakdown=ChargeBreakdown(
                parts=money(self.charge_amount),
                core_charges=money(0),
                shipping=money(0),
                tax=money(0),
            ),
            description="fbs contract check",
        )

    def refund_request(self, charge_reference: str, cents: int) -> RefundRequest:
        """A refund of ``cents`` of a charge, under a key no earlier test run used."""
        return RefundRequest(
            idempotency_key=f"contract-refund-{uuid.uuid4().hex}",
            order_id=1,
            charge_reference=charge_reference,
            amount=Money(cents=cents, currency=self.charge_currency),
            reason="fbs contract check",
        )

    def test_looks_up_earlier_charges_and_refunds(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """``find_charge`` and ``find_refund`` are implemented, so late retries never pay twice."""
        if not self.finds_earlier_effects:
            pytest.skip("finds_earlier_effects = False: late retries are held for the merchant")
        gateway_class = type(self.build(monkeypatch))
        for method in ("find_charge", "find_refund"):
            assert getattr(gateway_class, method) is not getattr(PaymentGateway, method), (
                f"{gateway_class.__name__} does not implement {method}(); a retry older than "
                "the gateway's idempotency window cannot be checked"
            )

    def test_a_charge_repeated_under_its_key_is_one_charge(
        self, live_gateway: PaymentGateway
    ) -> None:
        """Charging twice with one key answers with the first charge both times."""
        request = self.charge_request()

        first = live_gateway.charge(request)
        again = live_gateway.charge(request)

        assert again.reference == first.reference
        assert first.amount == request.amount
        if self.finds_earlier_effects:
            found = live_gateway.find_charge(request)
            assert found is not None and found.reference == first.reference
            assert live_gateway.find_charge(self.charge_request()) is None

    def test_a_refund_repeated_under_its_key_is_one_refund(
        self, live_gateway: PaymentGateway
    ) -> None:
        """Refunding twice with one key answers with the first refund both times."""
        charge = live_gateway.charge(self.charge_request())
        request = self.refund_request(charge.reference, self.charge_amount // 2)

        first = live_gateway.refund(request)
        again = live_gateway.refund(request)

        assert again.reference == first.reference
        assert first.amount == request.amount
        if self.finds_earlier_effects:
            found = live_gateway.find_refund(request)
            assert found is not None and found.reference == first.reference
            unused = self.refund_request(charge.reference, 1)
            assert live_gateway.find_refund(unused) is None


class SupplierContract(PluginContract):
    """Checks for a supplier plugin's ``fbs_suppliers()`` type."""

    hook_name = "fbs_suppliers"
    record_class = SupplierType
    adapter_class = Supplier
