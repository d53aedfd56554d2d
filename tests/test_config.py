"""fbs.toml → Settings: valid files, every family of error, paths and overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from fbs_core.config import InstanceSettings, Settings, find_config, load_settings
from fbs_core.domain.rules import NoStockPolicy
from fbs_core.errors import ConfigError

SECRET = "sk_test_do-not-print-me-4242"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("FBS_CONFIG", "FBS_DATABASE_URL", "STRIPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str, name: str = "fbs.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    return str(info.value)


VALID = """
merchant_id = "acme-parts"
database_url = "sqlite:///fbs.db"

[fulfillment]
mode = "manual"
on_no_stock = "hold"
tax_rates_percent = { tx = "8.25" }

[plugins]
block = ["fbs-supplier-legacy"]
modules = ["my_rules.plugin"]

[scheduler]
workers = 4

[channels.my-shop]
type = "woocommerce"
poll_interval = 60
[channels.my-shop.options]
url = "https://shop.example.test"

[suppliers.east]
type = "http"
enabled = false

[payments.stripe]
type = "stripe"
[payments.stripe.options]
api_key = { env = "STRIPE_API_KEY" }
nested = { keys = [{ env = "STRIPE_API_KEY" }, "plain"] }
"""


def test_a_valid_file_becomes_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", SECRET)
    settings = load_settings(write(tmp_path, VALID))

    assert settings.merchant_id == "acme-parts"
    assert settings.fulfillment.on_no_stock is NoStockPolicy.hold
    assert str(settings.fulfillment.tax_rates_percent["TX"]) == "8.25"
    assert settings.plugins.block == ["fbs-supplier-legacy"]
    assert settings.plugins.modules == ["my_rules.plugin"]
    assert settings.scheduler.workers == 4
    assert settings.scheduler.lease_seconds == 300  # default kept
    assert settings.server.enabled is False
    shop = settings.channels["my-shop"]
    assert (shop.type, shop.enabled, shop.poll_interval) == ("woocommerce", True, 60)
    assert shop.options == {"url": "https://shop.example.test"}
    assert settings.suppliers["east"].enabled is False
    assert settings.config_path == tmp_path / "fbs.toml"


def test_env_secrets_are_resolved_to_secret_strings_and_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", SECRET)
    settings = load_settings(write(tmp_path, VALID))

    options = settings.payments["stripe"].options
    assert isinstance(options["api_key"], SecretStr)
    assert options["api_key"].get_secret_value() == SECRET
    assert options["nested"]["keys"][0].get_secret_value() == SECRET
    assert options["nested"]["keys"][1] == "plain"
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in settings.model_dump_json()


def test_missing_env_secret_names_file_key_and_variable(tmp_path):
    message = error_of(write(tmp_path, VALID))
    assert message == (
        "fbs.toml: payments.stripe.options.api_key: environment variable STRIPE_API_KEY is not set"
        "\nfbs.toml: payments.stripe.options.nested.keys.0: environment variable"
        " STRIPE_API_KEY is not set"
    )


def test_unknown_keys_suggest_the_nearest_valid_key(tmp_path):
    message = error_of(
        write(
            tmp_path,
            """
            merchnt_id = "x"
            [fulfillment]
            on_no_stok = "hold"
            [scheduler]
            worker = 2
            [channels.shop]
            type = "woocommerce"
            pol_interval = 30
            """,
        )
    )
    assert sorted(message.splitlines()) == [
        "fbs.toml: channels.shop.pol_interval: unknown key; did you mean 'poll_interval'?",
        "fbs.toml: fulfillment.on_no_stok: unknown key; did you mean 'on_no_stock'?",
        "fbs.toml: merchnt_id: unknown key; did you mean 'merchant_id'?",
        "fbs.toml: scheduler.worker: unknown key; did you mean 'workers'?",
    ]


def test_a_key_with_no_close_match_gets_no_suggestion(tmp_path):
    message = error_of(write(tmp_path, "[server]\nzzzzzz = 1\n"))
    assert message == "fbs.toml: server.zzzzzz: unknown key"


def test_wrong_types_and_values_name_the_key_and_the_bad_value(tmp_path):
    message = error_of(
        write(
            tmp_path,
            """
            [fulfillment]
            mode = "sometimes"
            [scheduler]
            workers = "many"
            tick_seconds = -1
            [suppliers.east]
            poll_interval = 30
            """,
        )
    )
    lines = message.splitlines()
    assert (
        "fbs.toml: fulfillment.mode: Input should be 'auto' or 'manual' (got 'sometimes')" in lines
    )
    assert any(
        line.startswith("fbs.toml: scheduler.workers: Input should be a valid integer")
        for line in lines
    )
    assert any(
        line.startswith("fbs.toml: scheduler.tick_seconds: Input should be greater than 0")
        for line in lines
    )
    assert "fbs.toml: suppliers.east.type: Field required" in lines
    assert len(lines) == 4


def test_a_bad_options_table_never_echoes_its_value(tmp_path):
    message = error_of(
        write(tmp_path, f'[payments.stripe]\ntype = "stripe"\noptions = "{SECRET}"\n')
    )
    assert message == "fbs.toml: payments.stripe.options: Input should be a valid dictionary"
    assert SECRET not in message


def test_instance_names_are_lowercase_letters_digits_dash_underscore(tmp_path):
    message = error_of(
        write(
            tmp_path,
            '[channels."My Shop"]\ntype = "woocommerce"\n[channels.ok_shop-2]\ntype = "x"\n',
        )
    )
    assert message == (
        'fbs.toml: channels."My Shop": invalid instance name; '
        "use lowercase letters, digits, '-' and '_'"
    )


def test_toml_syntax_error_names_file_and_line(tmp_path):
    message = error_of(write(tmp_path, 'merchant_id = "a"\n\n[fulfillment\nmode = "auto"\n'))
    assert message.startswith("fbs.toml: invalid TOML: ")
    assert "line 3" in message


def test_config_path_is_not_a_toml_key(tmp_path):
    assert (
        error_of(write(tmp_path, 'config_path = "/etc/x"\n'))
        == "fbs.toml: config_path: unknown key"
    )


def test_errors_name_the_file_as_given_outside_the_working_folder(tmp_path, monkeypatch):
    elsewhere = tmp_path / "etc"
    elsewhere.mkdir()
    path = write(elsewhere, "nope = 1\n", name="prod.toml")
    monkeypatch.chdir(elsewhere)
    assert error_of(Path("prod.toml")) == "prod.toml: nope: unknown key"
    monkeypatch.chdir(tmp_path)
    assert error_of(path) == "etc/prod.toml: nope: unknown key"


def test_relative_sqlite_paths_are_resolved_against_the_config_folder(tmp_path, monkeypatch):
    folder = tmp_path / "conf"
    folder.mkdir()
    somewhere_else = tmp_path / "cwd"
    somewhere_else.mkdir()
    monkeypatch.chdir(somewhere_else)

    def url_of(value: str) -> str:
        return load_settings(write(folder, f'database_url = "{value}"\n')).database_url

    assert url_of("sqlite:///fbs.db") == f"sqlite:///{folder / 'fbs.db'}"
    assert url_of("sqlite+pysqlite:///data/x.db?timeout=5") == (
        f"sqlite+pysqlite:///{folder / 'data' / 'x.db'}?timeout=5"
    )
    assert url_of("sqlite:////var/lib/fbs.db") == "sqlite:////var/lib/fbs.db"
    assert url_of("sqlite:///:memory:") == "sqlite:///:memory:"
    assert url_of("postgresql+psycopg://fbs@db/fbs") == "postgresql+psycopg://fbs@db/fbs"


def test_fbs_database_url_overrides_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FBS_DATABASE_URL", "postgresql+psycopg://fbs@db/fbs")
    settings = load_settings(write(tmp_path, 'database_url = "sqlite:///fbs.db"\n'))
    assert settings.database_url == "postgresql+psycopg://fbs@db/fbs"


def test_defaults_without_any_key(tmp_path):
    settings = load_settings(write(tmp_path, ""))
    assert settings.database_url == f"sqlite:///{tmp_path / 'fbs.db'}"
    assert settings.channels == settings.suppliers == settings.payments == settings.tracking == {}
    assert Settings().database_url == "sqlite:///fbs.db"


def test_instance_repr_hides_options():
    instance = InstanceSettings(type="stripe", options={"api_key": "sk_live_written_in_the_file"})
    assert "sk_live_written_in_the_file" not in repr(instance)


def test_find_config_prefers_explicit_then_env_then_working_folder(tmp_path, monkeypatch):
    explicit = write(tmp_path, "", name="explicit.toml")
    from_env = write(tmp_path, "", name="env.toml")
    local = write(tmp_path, "")
    monkeypatch.setenv("FBS_CONFIG", str(from_env))

    assert find_config(explicit) == explicit
    assert find_config(str(explicit)) == explicit
    assert find_config(None) == from_env
    monkeypatch.delenv("FBS_CONFIG")
    assert find_config(None) == Path("fbs.toml")
    assert find_config(None).resolve() == local


def test_find_config_names_all_three_places_when_none_exists():
    with pytest.raises(ConfigError) as info:
        find_config(None)
    message = str(info.value)
    assert "--config" in message
    assert "FBS_CONFIG" in message
    assert "./fbs.toml" in message
    assert "fbs init" in message


def test_find_config_refuses_a_named_file_that_does_not_exist(tmp_path, monkeypatch):
    write(tmp_path, "")  # ./fbs.toml exists, but an explicit choice is never ignored
    with pytest.raises(ConfigError, match="missing.toml: config file not found"):
        find_config(tmp_path / "missing.toml")
    monkeypatch.setenv("FBS_CONFIG", "gone.toml")
    with pytest.raises(ConfigError, match="gone.toml: config file not found .*FBS_CONFIG"):
        find_config(None)
