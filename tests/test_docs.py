"""README.md and config.example.toml stay true to the code: hooks, commands, every setting."""

from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

import click
import pytest

from fbs_channel_woocommerce.channel import WooCommerceOptions
from fbs_core.cli import load_all_commands, main
from fbs_core.config import (
    INSTANCE_SECTIONS,
    ConsoleSettings,
    InstanceSettings,
    PluginSettings,
    SchedulerSettings,
    ServerSettings,
    Settings,
    load_settings,
)
from fbs_core.domain.rules import FulfillmentRules
from fbs_core.hookspecs import FbsSpecs
from fbs_core.plugins import ALLOW_ENV, BLOCK_ENV, build_runtime, make_plugin_manager
from fbs_core.sourcing.shipping import shipping_table_markdown
from fbs_payment_stripe.gateway import StripeOptions
from fbs_supplier_http.supplier import HttpSupplierOptions

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE_PATH = ROOT / "config.example.toml"
EXAMPLE = EXAMPLE_PATH.read_text(encoding="utf-8")

EXAMPLE_ENV = {
    "WOO_CONSUMER_KEY": "ck_0123456789abcdef0123456789abcdef01234567",
    "WOO_CONSUMER_SECRET": "cs_0123456789abcdef0123456789abcdef01234567",
    "WOO_WEBHOOK_SECRET": "woo-webhook-secret-0123456789",
    "STRIPE_SECRET_KEY": "sk_test_51Hx0123456789abcdefghijklmnop",
    "EAST_WAREHOUSE_API_KEY": "wh_live_east_0123456789",
    "CENTRAL_WAREHOUSE_API_KEY": "wh_live_central_0123456789",
    "WEST_WAREHOUSE_API_KEY": "wh_live_west_0123456789",
}
"""Plausible values for every variable config.example.toml names with { env = ... }."""


def hook_specs() -> dict[str, list[str]]:
    """Hook name → argument names (without ``self``), as declared in FbsSpecs."""
    return {
        name: list(inspect.signature(function).parameters)[1:]
        for name, function in inspect.getmembers(FbsSpecs, inspect.isfunction)
        if hasattr(function, "fbs_spec")
    }


def cli_commands(group: click.Group, prefix: str = "fbs") -> list[str]:
    """Every command path under ``group``: ``fbs run``, ``fbs orders list``, ..."""
    found = []
    commands = load_all_commands() if group is main else group.commands
    for name, command in commands.items():
        path = f"{prefix} {name}"
        found.append(path)
        if isinstance(command, click.Group):
            found.extend(cli_commands(command, path))
    return found


def section(markdown: str, title: str) -> str:
    """The text of the ``## title`` section, up to the next level-2 heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"README.md has no '## {title}' section"
    return match.group(1)


def example_keys() -> dict[str, set[str]]:
    """Table → keys written in config.example.toml, commented-out examples included.

    A commented key line (``# hold_above_cents = 50000``) counts as documented: some
    settings have no TOML spelling for their default (None).
    """
    keys: dict[str, set[str]] = {}
    table = ""
    for line in EXAMPLE.splitlines():
        header = re.fullmatch(r"\[([^\]]+)\]\s*", line)
        if header:
            table = header.group(1)
            continue
        assignment = re.match(r"(?:#\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*=", line)
        if assignment:
            keys.setdefault(table, set()).add(assignment.group(1))
    return keys


def instance_tables(kind: str, type_name: str) -> list[str]:
    """Names of the ``[<kind>.<name>]`` instances of ``type_name`` in the example."""
    raw = tomllib.loads(EXAMPLE)
    return [name for name, table in raw.get(kind, {}).items() if table.get("type") == type_name]


# -- README.md ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(hook_specs()))
def test_every_hook_is_in_the_readme_with_its_arguments(name):
    signature = f"{name}({', '.join(hook_specs()[name])})"
    assert signature in README, f"README.md does not show `{signature}`"


@pytest.mark.parametrize("command", cli_commands(main))
def test_every_command_is_in_the_readme(command):
    words = command.split()[1:]
    assert re.search(r"\bfbs " + r"\s+".join(map(re.escape, words)) + r"\b", README), (
        f"README.md never mentions `{command}`"
    )


def test_quickstart_is_the_demo_and_the_tests():
    quickstart = section(README, "Quickstart")
    assert "uv run fbs demo" in quickstart
    assert "uv run pytest" in quickstart
    assert "FBS_TEST_DATABASE_URL=" in quickstart


def test_readme_sections_come_in_order():
    titles = re.findall(r"^## (.+)$", README, re.M)
    expected = [
        "Quickstart",
        "Running it for a store",
        "Configuration",
        "Plugins",
        "How the pipeline behaves",
        "Hooks",
        "Writing a supplier plugin",
        "Development",
    ]
    assert [t for t in titles if t in expected] == expected


def test_the_shipping_table_in_the_readme_is_the_one_the_code_uses():
    assert shipping_table_markdown() in README


def test_every_order_status_is_in_the_readme():
    from fbs_core.domain import OrderStatus

    states = section(README, "How the pipeline behaves")
    for status in OrderStatus:
        assert status.value in states, f"status {status.value} is not described"


def test_readme_links_point_at_files_that_exist():
    for target in re.findall(r"\]\(([^)#:]+)\)", README):
        assert (ROOT / target).exists(), f"README.md links to missing {target}"


def test_the_plugin_environment_variables_are_documented():
    for name in (BLOCK_ENV, ALLOW_ENV, "FBS_CONFIG", "FBS_DATABASE_URL"):
        assert name in section(README, "Configuration"), name


# -- config.example.toml -------------------------------------------------------------


def test_config_example_loads_and_builds_every_instance_with_the_installed_plugins(
    monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FBS_DATABASE_URL", raising=False)
    monkeypatch.delenv(BLOCK_ENV, raising=False)
    monkeypatch.delenv(ALLOW_ENV, raising=False)
    for name, value in EXAMPLE_ENV.items():
        monkeypatch.setenv(name, value)

    settings = load_settings(EXAMPLE_PATH)
    pm = make_plugin_manager(blocked=settings.plugins.block, modules=settings.plugins.modules)
    runtime = build_runtime(settings, pm)
    try:
        assert set(runtime.channels) == set(settings.channels) == {"my-shop"}
        assert set(runtime.suppliers) == {"east", "central", "west"}
        assert set(runtime.payments) == {"stripe"}
        assert runtime.tracking == {}
        assert settings.database_url == f"sqlite:///{ROOT / 'fbs.db'}"
    finally:
        runtime.close()


def test_config_example_names_every_env_variable_the_test_sets():
    settings = "\n".join(line for line in EXAMPLE.splitlines() if not line.lstrip().startswith("#"))
    named = set(re.findall(r'\{\s*env\s*=\s*"([A-Z0-9_]+)"\s*\}', settings))
    assert named == set(EXAMPLE_ENV)


def test_config_example_sets_values_equal_to_the_defaults_where_it_says_default():
    raw = tomllib.loads(EXAMPLE)
    for table, model in (
        ("scheduler", SchedulerSettings),
        ("server", ServerSettings),
        ("console", ConsoleSettings),
        ("plugins", PluginSettings),
    ):
        assert model.model_validate(raw[table]) == model(), f"[{table}] differs from defaults"
    rules = {k: v for k, v in raw["fulfillment"].items() if k != "tax_rates_percent"}
    assert FulfillmentRules.model_validate(rules) == FulfillmentRules()


def test_config_example_has_every_top_level_key():
    top = example_keys().get("", set())
    assert (
        set(Settings.model_fields)
        - {
            "config_path",
            "fulfillment",
            "plugins",
            "scheduler",
            "server",
            "console",
            *INSTANCE_SECTIONS,
        }
        <= top
    )


@pytest.mark.parametrize(
    ("table", "model"),
    [
        ("fulfillment", FulfillmentRules),
        ("scheduler", SchedulerSettings),
        ("server", ServerSettings),
        ("console", ConsoleSettings),
        ("plugins", PluginSettings),
    ],
)
def test_config_example_documents_every_core_setting(table, model):
    missing = set(model.model_fields) - example_keys().get(table, set())
    assert not missing, f"[{table}] in config.example.toml lacks {sorted(missing)}"


@pytest.mark.parametrize(
    ("kind", "type_name", "model"),
    [
        ("channels", "woocommerce", WooCommerceOptions),
        ("suppliers", "http", HttpSupplierOptions),
        ("payments", "stripe", StripeOptions),
    ],
)
def test_config_example_documents_every_option_of_the_shipped_plugins(kind, type_name, model):
    names = instance_tables(kind, type_name)
    assert names, f"config.example.toml has no [{kind}.<name>] of type {type_name!r}"
    keys = example_keys()
    documented = set().union(*(keys.get(f"{kind}.{name}.options", set()) for name in names))
    missing = set(model.model_fields) - documented
    assert not missing, f"{type_name} options missing from config.example.toml: {sorted(missing)}"


def test_config_example_has_one_http_warehouse_per_region():
    raw = tomllib.loads(EXAMPLE)
    zips = [
        raw["suppliers"][name]["options"]["ship_from_zip"] for name in ("east", "central", "west")
    ]
    assert len(set(zips)) == 3


def test_config_example_documents_the_instance_keys():
    keys = example_keys()
    instance_keys = set(InstanceSettings.model_fields) - {"options"}
    first_channel = f"channels.{instance_tables('channels', 'woocommerce')[0]}"
    assert instance_keys <= keys[first_channel]
    for name in instance_keys:
        assert re.search(rf"^#\s+{name}\b", EXAMPLE, re.M), f"instance key {name} not explained"


def test_config_example_mentions_the_tracking_table_without_configuring_one():
    assert "[tracking." in EXAMPLE
    assert "tracking" not in tomllib.loads(EXAMPLE)
