"""Every TOML snippet in every README.md of the repository loads.

A snippet is taken for what it is:

* a config file, or part of one (``[channels.my-shop.options]`` without its ``type``):
  it is loaded with :func:`load_settings` and every instance in it is built by the real,
  installed plugins; an instance without ``type`` must be accepted by one installed type
  of its kind;
* a few keys of an ``options`` table with no table around them: each key must be an
  option of one installed plugin type, and its value valid for that option;
* a ``pyproject.toml`` (it has ``[project]``): it must register its plugin in the ``fbs``
  entry-point group.

``{ env = "NAME" }`` values are given plausible values for the test.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from fbs_core.config import INSTANCE_SECTIONS, Settings, load_settings
from fbs_core.errors import ConfigError
from fbs_core.plugins import (
    ALLOW_ENV,
    BLOCK_ENV,
    KINDS,
    build_registry,
    build_runtime,
    make_plugin_manager,
)

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_FOLDERS = {"node_modules", ".venv", ".git", ".pytest_cache"}
ENV_NAME = re.compile(r'\{\s*env\s*=\s*"([A-Za-z0-9_]+)"\s*\}')
STRIPE_KEY = "sk_test_51Hx0123456789abcdefghijklmnop"


def readmes() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("README.md")
        if not SKIPPED_FOLDERS & set(path.relative_to(ROOT).parts)
    )


def toml_snippets() -> list[Any]:
    """One pytest param per ```toml block: (README path, first line, text)."""
    found = []
    for path in readmes():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"^```toml\n(.*?)^```", text, re.M | re.S):
            line = text.count("\n", 0, match.start()) + 1
            where = f"{path.relative_to(ROOT)}:{line}"
            found.append(pytest.param(where, match.group(1), id=where))
    return found


def plausible(name: str) -> str:
    """A value an environment variable named ``name`` could hold."""
    return STRIPE_KEY if "STRIPE" in name else f"{name.lower().replace('_', '-')}-0123456789"


@pytest.fixture
def registry():
    return build_registry(make_plugin_manager())


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("FBS_CONFIG", "FBS_DATABASE_URL", BLOCK_ENV, ALLOW_ENV):
        monkeypatch.delenv(name, raising=False)


def test_the_readmes_have_toml_snippets_to_check():
    where = {param.values[0].split(":")[0] for param in toml_snippets()}
    assert {
        "README.md",
        "channels/fbs-channel-woocommerce/README.md",
        "plugins/fbs-payment-stripe/README.md",
        "suppliers/fbs-supplier-http/README.md",
    } <= where


@pytest.mark.parametrize(("where", "snippet"), toml_snippets())
def test_every_toml_snippet_in_every_readme_loads(where, snippet, registry, monkeypatch, tmp_path):
    for name in ENV_NAME.findall(snippet):
        monkeypatch.setenv(name, plausible(name))
    try:
        raw = tomllib.loads(snippet)
    except tomllib.TOMLDecodeError as exc:
        pytest.fail(f"{where}: not valid TOML: {exc}")

    if "project" in raw:
        check_pyproject(where, raw)
    elif set(raw) <= set(Settings.model_fields):
        check_config(where, snippet, raw, registry, tmp_path)
    else:
        check_options_keys(where, raw, registry)


def check_pyproject(where: str, raw: dict[str, Any]) -> None:
    plugins = raw["project"].get("entry-points", {}).get("fbs", {})
    assert raw["project"].get("name"), f"{where}: [project] has no name"
    assert plugins, f"{where}: registers nothing in the 'fbs' entry-point group"
    for name, target in plugins.items():
        assert re.fullmatch(r"[\w.]+(:[\w.]+)?", target), f"{where}: entry point {name}={target}"


def check_config(where: str, snippet: str, raw: dict[str, Any], registry, tmp_path: Path) -> None:
    """Load the snippet as fbs.toml, adding the ``type`` a bare instance fragment omits."""
    text = snippet
    for section in INSTANCE_SECTIONS:
        for name, table in raw.get(section, {}).items():
            if "type" not in table:
                type_name = accepting_type(section, table.get("options", {}), registry)
                assert type_name, f"{where}: no installed {section} type accepts [{section}.{name}]"
                text += f'\n[{section}."{name}"]\ntype = "{type_name}"\n'
    path = tmp_path / "fbs.toml"
    path.write_text(text, encoding="utf-8")
    try:
        settings = load_settings(path)
        runtime = build_runtime(settings, make_plugin_manager(modules=settings.plugins.modules))
    except ConfigError as exc:
        pytest.fail(f"{where}: the snippet does not load:\n{exc}")
    runtime.close()


def accepting_type(section: str, options: dict[str, Any], registry) -> str | None:
    """The installed type of ``section`` whose options model accepts ``options``."""
    resolved = resolve_env(options)
    kind = next(k for k in KINDS if k.section == section)
    for type_name, ptype in sorted(registry.types_of(kind).items()):
        try:
            ptype.options_model.model_validate(resolved)
        except ValidationError:
            continue
        return type_name
    return None


def check_options_keys(where: str, raw: dict[str, Any], registry) -> None:
    """Keys with no table around them: each is a valid option of one installed type."""
    models: list[type[BaseModel]] = [
        ptype.options_model for kind in KINDS for ptype in registry.types_of(kind).values()
    ]
    for key, value in resolve_env(raw).items():
        fields = [m.model_fields[key] for m in models if key in m.model_fields]
        assert fields, f"{where}: {key} is an option of no installed plugin type"
        problems = []
        for field in fields:
            try:
                TypeAdapter(field.annotation).validate_python(value)
                break
            except ValidationError as exc:
                problems.append(str(exc))
        else:
            pytest.fail(f"{where}: {key} = {value!r} is not valid: {problems}")


def resolve_env(value: Any) -> Any:
    """``{ env = "NAME" }`` → the variable's value, as the config loader does."""
    if isinstance(value, dict):
        if set(value) == {"env"}:
            return os.environ[value["env"]]
        return {k: resolve_env(v) for k, v in value.items()}
    return value
