"""Plugin manager: load, block, isolate, list; and the typed registry built from it.

Every plugin, ours included, loads through the ``fbs`` entry-point group. A plugin that
fails to import, misspells a hook or raises inside a hook is recorded as a
:class:`PluginFailure` with its name (and distribution) and skipped: it never stops the
other plugins. This is the only module outside tests that touches ``pm.hook``.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pluggy
from pydantic import BaseModel, ValidationError

from . import PROJECT_NAME
from .adapters import OrderSource, PaymentGateway, Supplier, TrackingSink
from .config import (
    display_path,
    dotted,
    format_validation_errors,
    scrub_secrets,
    secret_values,
    unwrap_secrets,
)
from .default_plugins import DEFAULT_PLUGINS
from .errors import ConfigError
from .hookspecs import FbsSpecs
from .ratelimits import govern
from .runtime import Runtime
from .types import OrderSourceType, PaymentGatewayType, PluginType, SupplierType, TrackingSinkType

if TYPE_CHECKING:
    from .config import Settings

log = logging.getLogger("fbs.plugins")

ENTRY_POINT_GROUP = "fbs"
BLOCK_ENV = "FBS_BLOCK_PLUGINS"
ALLOW_ENV = "FBS_LOAD_PLUGINS"


@dataclass(frozen=True)
class Kind:
    """One kind of plugin type: its hook, record class, adapter base and config section."""

    name: str
    """``channel``, ``tracking``, ``payment`` or ``supplier`` (``PluginType.kind``)."""
    hook: str
    record: type[PluginType]
    base: type
    section: str
    """Table of ``fbs.toml`` holding its instances, and the Runtime attribute."""
    registry_attr: str


_CHANNEL = Kind(
    "channel", "fbs_order_sources", OrderSourceType, OrderSource, "channels", "order_sources"
)
_SUPPLIER = Kind("supplier", "fbs_suppliers", SupplierType, Supplier, "suppliers", "suppliers")
_PAYMENT = Kind(
    "payment",
    "fbs_payment_gateways",
    PaymentGatewayType,
    PaymentGateway,
    "payments",
    "payment_gateways",
)
_TRACKING = Kind(
    "tracking", "fbs_tracking_sinks", TrackingSinkType, TrackingSink, "tracking", "tracking_sinks"
)
KINDS: tuple[Kind, ...] = (_CHANNEL, _SUPPLIER, _PAYMENT, _TRACKING)


@dataclass(frozen=True)
class PluginFailure:
    """Something a plugin did wrong, kept so ``fbs plugins`` and ``fbs check`` can show it."""

    plugin: str
    """Plugin name: the entry-point name, or the module path for built-ins and modules."""
    stage: str
    """``load``, ``validate``, ``conflict`` or the name of the hook that raised."""
    error: str
    """What went wrong, e.g. ``ModuleNotFoundError: No module named 'paramiko'``."""
    distribution: str | None = None
    version: str | None = None
    count: int = 1
    """How many times this (plugin, stage) failed; runtime hooks may fail repeatedly."""

    @property
    def source(self) -> str:
        """``name`` or ``name (distribution version)`` for messages."""
        if self.distribution:
            return f"{self.plugin} ({self.distribution} {self.version or ''})".replace(" )", ")")
        return self.plugin

    def __str__(self) -> str:
        return f"{self.source} failed at {self.stage}: {self.error}"


def _wrapper_refused(impl: pluggy.HookImpl) -> str:
    marker = "hookwrapper=True" if impl.hookwrapper else "wrapper=True"
    return (
        f"a {marker} hookimpl is not supported and never runs: fbs calls each plugin's "
        "implementation on its own, so one plugin cannot change or swallow another's "
        "answer or error; implement the hook without the wrapper (tryfirst=True to "
        "answer a decision before the others)"
    )


def _describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class FbsPluginManager(pluggy.PluginManager):
    """pluggy's manager plus a record of what failed and isolated ways to call hooks."""

    def __init__(self, project_name: str = PROJECT_NAME) -> None:
        super().__init__(project_name)
        self.failures: list[PluginFailure] = []
        self._lock = threading.Lock()
        self.sources: dict[str, tuple[str, str]] = {}
        """Entry-point name → (distribution name, version) for every ``fbs`` entry point seen."""

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register like pluggy, then report every wrapper hookimpl of the plugin.

        fbs never runs a hook through pluggy's call loop: it calls each implementation
        on its own (:meth:`collect`, :meth:`call_each`, :meth:`decide`), so that a
        plugin that raises is skipped and the others, and the core's defaults, still
        answer. A wrapper (``wrapper=True`` or ``hookwrapper=True``) wraps that loop,
        which fbs does not use, so it could never run as its author meant; it is
        recorded as a problem of its plugin, shown by ``fbs plugins`` and ``fbs check``,
        and never called.
        """
        plugin_name = super().register(plugin, name)
        if plugin_name is not None:
            for caller in self.get_hookcallers(plugin) or ():
                for impl in caller.get_hookimpls():
                    if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                        self.record(self.failure(plugin_name, caller.name, _wrapper_refused(impl)))
        return plugin_name

    def source_of(self, plugin_name: str) -> str:
        """``distribution version`` of a plugin, or its name when it has no distribution."""
        dist = self.sources.get(plugin_name)
        return f"{dist[0]} {dist[1]}" if dist else plugin_name

    def failure(self, plugin: str, stage: str, error: BaseException | str) -> PluginFailure:
        """Build a failure for ``plugin`` with its distribution filled in."""
        dist, version = self.sources.get(plugin, (None, None))
        text = error if isinstance(error, str) else _describe_error(error)
        return PluginFailure(plugin, stage, text, dist, version)

    def record(self, failure: PluginFailure) -> None:
        """Keep ``failure``; a repeat of the same (plugin, stage) replaces it and counts.

        Safe to call from the worker threads that run decision hooks.
        """
        with self._lock:
            for i, old in enumerate(self.failures):
                if (old.plugin, old.stage) == (failure.plugin, failure.stage):
                    self.failures[i] = replace(failure, count=old.count + 1)
                    return
            self.failures.append(failure)

    def collect(
        self, hook_name: str
    ) -> tuple[dict[str, list[tuple[str, PluginType]]], list[PluginFailure]]:
        """Call a registration hook impl by impl; one broken plugin hides nothing else.

        Returns:
            ``{type name: [(plugin name, record), ...]}`` in pluggy's call order, and the
            failures of impls that raised (their records, even those yielded before the
            error, are dropped).
        """
        found: dict[str, list[tuple[str, PluginType]]] = {}
        failures: list[PluginFailure] = []
        for impl in reversed(getattr(self.hook, hook_name).get_hookimpls()):
            if impl.wrapper or impl.hookwrapper:
                continue
            try:
                records = list(impl.function() or ())
            except Exception as exc:
                # Startup: the failure is shown by `fbs plugins`/`fbs check`; -vv has the trace.
                log.warning("plugin %s failed in %s: %s", impl.plugin_name, hook_name, exc)
                log.debug("traceback of %s in %s", impl.plugin_name, hook_name, exc_info=True)
                failures.append(self.failure(impl.plugin_name, hook_name, exc))
                continue
            for record in records:
                name = getattr(record, "name", repr(record))
                found.setdefault(name, []).append((impl.plugin_name, record))
        return found, failures

    def call_each(self, hook_name: str, **kwargs: Any) -> list[PluginFailure]:
        """Call a notification hook impl by impl, passing only the args each impl asks for.

        An impl that raises is logged with its plugin's name; the others still run.
        """
        failures: list[PluginFailure] = []
        for impl in reversed(getattr(self.hook, hook_name).get_hookimpls()):
            if impl.wrapper or impl.hookwrapper:
                continue
            try:
                impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as exc:
                log.exception("plugin %s failed in %s", impl.plugin_name, hook_name)
                failures.append(self.failure(impl.plugin_name, hook_name, exc))
        return failures

    def decide(self, hook_name: str, **kwargs: Any) -> Any:
        """Call a firstresult hook impl by impl and return the first non-None answer.

        Order is pluggy's: tryfirst, normal, then trylast (the core's defaults). Within
        tryfirst and normal the later registration runs first; within trylast the earlier
        one does, so the core's default (registered first) precedes a plugin's trylast.
        An impl that raises is logged, recorded in :attr:`failures` and skipped, so the
        next impl (ultimately the default) answers.
        Returns None if no impl answers.
        """
        for impl in reversed(getattr(self.hook, hook_name).get_hookimpls()):
            if impl.wrapper or impl.hookwrapper:
                continue
            try:
                result = impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as exc:
                log.exception("plugin %s failed in %s; skipped", impl.plugin_name, hook_name)
                self.record(self.failure(impl.plugin_name, hook_name, exc))
                continue
            if result is not None:
                return result
        return None


def _env_names(var: str) -> set[str]:
    return {name.strip() for name in os.environ.get(var, "").split(",") if name.strip()}


def make_plugin_manager(
    *, load_entrypoints: bool = True, blocked: Iterable[str] = (), modules: Iterable[str] = ()
) -> FbsPluginManager:
    """Build a fresh manager: specs, blocks, built-ins, entry points, then ``modules``.

    Args:
        load_entrypoints: load the ``fbs`` entry-point group (tests pass False).
        blocked: plugin names never to import; ``FBS_BLOCK_PLUGINS=a,b`` adds more.
        modules: dotted module paths to import and register under that path.

    ``FBS_LOAD_PLUGINS=a,b`` loads only those entry points (``''`` loads none). Every
    failure is recorded in ``pm.failures``; none is raised.
    """
    pm = FbsPluginManager()
    pm.add_hookspecs(FbsSpecs)
    for name in {*blocked, *_env_names(BLOCK_ENV)}:
        pm.set_blocked(name)
    for module_name in DEFAULT_PLUGINS:
        _register_module(pm, module_name)
    if load_entrypoints:
        allowed = _env_names(ALLOW_ENV) if ALLOW_ENV in os.environ else None
        _load_entrypoints(pm, allowed)
    for module_name in modules:
        _register_module(pm, module_name)
    while True:  # report every hook-name typo, not only the first
        try:
            pm.check_pending()
            break
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            pm.record(pm.failure(name, "validate", str(exc)))
            pm.unregister(exc.plugin)
    return pm


def _register_module(pm: FbsPluginManager, module_name: str) -> None:
    if pm.is_blocked(module_name) or pm.has_plugin(module_name):
        return
    try:
        module = importlib.import_module(module_name)
        if not pm.is_registered(module):  # also reachable through an entry point
            pm.register(module, name=module_name)
    except pluggy.PluginValidationError as exc:
        pm.record(pm.failure(module_name, "validate", str(exc)))
    except Exception as exc:
        log.warning("plugin module %s failed to load: %s", module_name, _describe_error(exc))
        pm.record(pm.failure(module_name, "load", exc))


def _load_entrypoints(pm: FbsPluginManager, allowed: set[str] | None) -> None:
    """Load each ``fbs`` entry point on its own, so one broken plugin is only reported."""
    attempted: set[str] = set()
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP or ep.name in attempted:
                continue
            attempted.add(ep.name)
            pm.sources[ep.name] = (dist.metadata["Name"] or "?", dist.version or "")
            if (allowed is not None and ep.name not in allowed) or pm.is_blocked(ep.name):
                continue
            if pm.has_plugin(ep.name):
                continue
            try:
                pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=ep.name)
            except pluggy.PluginValidationError as exc:
                pm.record(pm.failure(ep.name, "validate", str(exc)))
            except Exception as exc:  # ImportError, an error at import time, ...
                log.warning(
                    "plugin %s (%s) failed to load: %s",
                    ep.name,
                    pm.source_of(ep.name),
                    _describe_error(exc),
                )
                pm.record(pm.failure(ep.name, "load", exc))


@dataclass
class Registry:
    """Every type the installed plugins provide, built once at startup.

    A type name provided by two plugins is a *conflict*: it is kept in neither dict, a
    ``conflict`` failure naming both providers (distribution and version) is recorded for
    each, and :func:`build_runtime` refuses only if the config uses that type. An unused
    conflict is therefore a warning, a used one an error that says which plugin to block.
    """

    order_sources: dict[str, OrderSourceType] = field(default_factory=dict)
    tracking_sinks: dict[str, TrackingSinkType] = field(default_factory=dict)
    payment_gateways: dict[str, PaymentGatewayType] = field(default_factory=dict)
    suppliers: dict[str, SupplierType] = field(default_factory=dict)
    providers: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(kind, type name) → names of the plugins providing it; kind as in ``PluginType.kind``."""
    failures: list[PluginFailure] = field(default_factory=list)
    """Failures found while building the registry (hooks that raised, bad records,
    conflicts); load failures stay in ``pm.failures``."""

    def types_of(self, kind: Kind) -> dict[str, PluginType]:
        """The dict of types of one kind."""
        return getattr(self, kind.registry_attr)


def build_registry(pm: FbsPluginManager) -> Registry:
    """Call every registration hook (isolated) and index the types by kind and name."""
    registry = Registry()
    for kind in KINDS:
        found, failures = pm.collect(kind.hook)
        registry.failures.extend(failures)
        for type_name, offers in found.items():
            valid = []
            for plugin_name, record in offers:
                problem = _record_problem(kind, record)
                if problem:
                    registry.failures.append(pm.failure(plugin_name, kind.hook, problem))
                else:
                    valid.append((plugin_name, record))
            if not valid:
                continue
            plugins = [plugin_name for plugin_name, _ in valid]
            registry.providers[(kind.name, type_name)] = plugins
            if len(set(plugins)) > 1:
                message = f"{kind.name} type '{type_name}' is provided by " + " and ".join(
                    pm.source_of(p) for p in dict.fromkeys(plugins)
                )
                log.warning("%s; neither is used", message)
                for plugin_name in dict.fromkeys(plugins):
                    registry.failures.append(pm.failure(plugin_name, "conflict", message))
                continue
            if len(plugins) > 1:
                registry.failures.append(
                    pm.failure(plugins[0], kind.hook, f"yields type '{type_name}' more than once")
                )
            registry.types_of(kind)[type_name] = valid[0][1]
    return registry


def _record_problem(kind: Kind, record: Any) -> str | None:
    if not isinstance(record, kind.record):
        return f"yielded {type(record).__name__}, expected {kind.record.__name__}"
    if not record.name:
        return "yielded a type with an empty name"
    if not (isinstance(record.options_model, type) and issubclass(record.options_model, BaseModel)):
        return f"type '{record.name}': options_model is not a pydantic model"
    if not callable(record.factory):
        return f"type '{record.name}': factory is not callable"
    return None


def build_runtime(
    settings: Settings, pm: FbsPluginManager, registry: Registry | None = None
) -> Runtime:
    """Build one adapter per enabled configured instance.

    Raises:
        ConfigError: listing every instance whose type is unknown or conflicting, whose
            options fail the type's ``options_model``, whose factory raised, or whose
            adapter is not of the right base class. Secret values are never shown.
    """
    registry = registry if registry is not None else build_registry(pm)
    runtime = Runtime(settings=settings, pm=pm, registry=registry)
    shown = display_path(settings.config_path)
    problems: list[str] = []
    for kind in KINDS:
        built = getattr(runtime, kind.section)
        for name, instance in getattr(settings, kind.section).items():
            if not instance.enabled:
                continue
            loc = (kind.section, name)
            ptype = registry.types_of(kind).get(instance.type.strip().lower())
            if ptype is None:
                problems.append(_unknown_type(pm, registry, kind, loc, instance.type))
                continue
            adapter, errors = _build_one(pm, registry, kind, loc, ptype, instance.options)
            problems.extend(errors)
            if adapter is not None:
                try:
                    govern(adapter, runtime.limiters)
                except Exception as exc:  # noqa: BLE001 - a plugin bug, reported as config
                    problems.append(f"{'.'.join(loc)}: its rate limits are unusable: {exc}")
                    continue
                built[name] = adapter
    problems.extend(_payment_gateway_problems(settings))
    if problems:
        runtime.close()
        raise ConfigError("\n".join(f"{shown}: {problem}" for problem in problems))
    return runtime


def _payment_gateway_problems(settings: Settings) -> list[str]:
    """Check ``[fulfillment] payment_gateway`` against the enabled payment instances.

    One enabled gateway needs no setting; with several the merchant must say which one
    charges, never the core by guessing.
    """
    enabled = sorted(name for name, instance in settings.payments.items() if instance.enabled)
    chosen = settings.fulfillment.payment_gateway
    key = "fulfillment.payment_gateway"
    choices = ", ".join(enabled) or "none"
    if chosen is not None and chosen not in enabled:
        return [f"{key}: '{chosen}' is not an enabled [payments.<name>] instance; "
                f"enabled: {choices}"]  # fmt: skip
    if chosen is None and len(enabled) > 1:
        return [f"{key}: {len(enabled)} payment gateways are enabled ({choices}); set "
                "payment_gateway in [fulfillment] to the one that charges"]  # fmt: skip
    return []


def _unknown_type(
    pm: FbsPluginManager, registry: Registry, kind: Kind, loc: tuple[str, str], type_name: str
) -> str:
    key = dotted((*loc, "type"))
    providers = registry.providers.get((kind.name, type_name.strip().lower()), [])
    if len(set(providers)) > 1:
        names = " and ".join(pm.source_of(p) for p in dict.fromkeys(providers))
        return (
            f"{key}: {kind.name} type '{type_name}' is provided by {names}; "
            "block one of them in [plugins] block"
        )
    installed = sorted(registry.types_of(kind))
    listed = ", ".join(installed) or "none"
    message = f"{key}: unknown {kind.name} type '{type_name}'; installed: {listed}"
    close = difflib.get_close_matches(type_name, installed, n=1)
    if close:
        message += f"; did you mean '{close[0]}'?"
    broken = [f.plugin for f in pm.failures if f.stage in ("load", "validate")]
    if broken:
        message += f" ({', '.join(sorted(set(broken)))} failed to load; see 'fbs plugins')"
    return message


def _build_one(
    pm: FbsPluginManager,
    registry: Registry,
    kind: Kind,
    loc: tuple[str, str],
    ptype: PluginType,
    raw_options: dict[str, Any],
) -> tuple[Any, list[str]]:
    secrets = secret_values(raw_options)
    try:
        options = ptype.options_model.model_validate(unwrap_secrets(raw_options))
    except ValidationError as exc:
        lines = format_validation_errors(
            exc, ptype.options_model, prefix=(*loc, "options"), hide_input=lambda _: True
        )
        return None, [scrub_secrets(line, secrets) for line in lines]
    plugin = (registry.providers.get((kind.name, ptype.name)) or ["?"])[0]
    try:
        adapter = ptype.factory(loc[1], options)
    except Exception as exc:
        log.debug("factory of %s type '%s' failed", kind.name, ptype.name, exc_info=True)
        text = scrub_secrets(_describe_error(exc), secrets + secret_values(options))
        return None, [
            f"{dotted(loc)}: plugin {pm.source_of(plugin)} could not build this {kind.name}: {text}"
        ]
    if not isinstance(adapter, kind.base):
        return None, [
            f"{dotted(loc)}: plugin {pm.source_of(plugin)} built a {type(adapter).__name__}, "
            f"not a {kind.base.__name__}"
        ]
    return adapter, []


def describe_plugins(pm: FbsPluginManager, registry: Registry) -> list[dict[str, Any]]:
    """One JSON-ready entry per plugin (registered, failed or blocked), for ``fbs plugins``.

    Keys: ``name``, ``distribution``, ``version``, ``builtin`` (one of the core's
    ``DEFAULT_PLUGINS``), ``status`` (``active``; ``failed`` if anything about it failed;
    ``blocked``), ``hooks``, ``provides`` (kind → type names) and ``failures``
    (``stage``, ``error``, ``count``).
    """
    failures = [*pm.failures, *registry.failures]
    names = {name for name, _ in pm.list_name_plugin()}
    names |= {f.plugin for f in failures}
    provides: dict[str, dict[str, list[str]]] = {}
    for (kind, type_name), plugins in registry.providers.items():
        for plugin_name in dict.fromkeys(plugins):
            provides.setdefault(plugin_name, {}).setdefault(kind, []).append(type_name)

    entries = []
    for name in names:
        plugin = pm.get_plugin(name)
        own = [f for f in failures if f.plugin == name]
        if pm.is_blocked(name):
            status = "blocked"
        elif own or plugin is None:
            status = "failed"
        else:
            status = "active"
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or ()) if plugin else []
        dist, version = pm.sources.get(name, (None, None))
        entries.append(
            {
                "name": name,
                "distribution": dist,
                "version": version,
                "builtin": name in DEFAULT_PLUGINS,
                "status": status,
                "hooks": hooks,
                "provides": {k: sorted(v) for k, v in sorted(provides.get(name, {}).items())},
                "failures": [{"stage": f.stage, "error": f.error, "count": f.count} for f in own],
            }
        )
    return sorted(entries, key=lambda e: (e["builtin"], e["name"]))
