"""With the webhook server on, a channel without ``webhook_secret`` is a config error.

Without the secret the server would start and then refuse every delivery with 401, which
shows only as a WARNING line; so the file is refused up front, naming file, key and problem.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fbs_core.cli import main
from fbs_core.cli.init_cmd import starter_config
from fbs_core.config import load_settings
from fbs_core.errors import ConfigError

SHOP = """
[channels.my-shop]
type = "woocommerce"
[channels.my-shop.options]
url = "https://shop.example.test"
consumer_key = "ck_x"
consumer_secret = "cs_x"
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("FBS_CONFIG", "FBS_DATABASE_URL", "WOO_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fbs.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_channel_without_a_webhook_secret_is_refused_when_the_server_is_on(tmp_path):
    path = write(tmp_path, "[server]\nenabled = true\n" + SHOP)

    with pytest.raises(ConfigError) as info:
        load_settings(path)

    assert str(info.value) == (
        "fbs.toml: channels.my-shop.options.webhook_secret: required when [server] "
        "enabled = true; without it every webhook delivery to /webhooks/my-shop is "
        "refused (401). Set it to the secret of the store's webhooks"
    )


def test_an_empty_webhook_secret_is_refused_too(tmp_path, monkeypatch):
    monkeypatch.setenv("WOO_WEBHOOK_SECRET", "")
    text = "[server]\nenabled = true\n" + SHOP + 'webhook_secret = { env = "WOO_WEBHOOK_SECRET" }\n'

    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))

    assert "channels.my-shop.options.webhook_secret: required when [server]" in str(info.value)


def test_with_a_secret_or_with_the_server_off_the_file_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("WOO_WEBHOOK_SECRET", "whsec-1")
    with_secret = "[server]\nenabled = true\n" + SHOP
    with_secret += 'webhook_secret = { env = "WOO_WEBHOOK_SECRET" }\n'
    disabled_channel = "[server]\nenabled = true\n" + SHOP.replace(
        'type = "woocommerce"', 'type = "woocommerce"\nenabled = false'
    )

    assert load_settings(write(tmp_path, with_secret)).server.enabled is True
    assert load_settings(write(tmp_path, disabled_channel)).server.enabled is True
    assert load_settings(write(tmp_path, SHOP)).server.enabled is False


def test_fbs_check_reports_it_in_one_line_without_a_traceback(tmp_path):
    path = write(tmp_path, "[server]\nenabled = true\n" + SHOP)

    result = CliRunner().invoke(main, ["--config", str(path), "check"])

    assert result.exit_code != 0
    assert "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if "webhook_secret" in line]
    assert line.startswith("error: fbs.toml: channels.my-shop.options.webhook_secret: required")


def test_an_unset_variable_for_the_secret_is_reported_once(tmp_path):
    text = "[server]\nenabled = true\n" + SHOP + 'webhook_secret = { env = "WOO_WEBHOOK_SECRET" }\n'

    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))

    assert str(info.value) == (
        "fbs.toml: channels.my-shop.options.webhook_secret: "
        "environment variable WOO_WEBHOOK_SECRET is not set"
    )


def starter_with_the_shop_and_the_server_on() -> str:
    """``fbs init``'s file with its channel example uncommented and the server enabled."""
    lines, out, in_shop = starter_config().splitlines(), [], False
    for line in lines:
        if line.startswith("# [channels.my-shop]"):
            in_shop = True
        if in_shop and not line.strip():
            in_shop = False
        out.append(line[2:].split("  # ")[0] if in_shop else line)
    return (
        "\n".join(out)
        .replace("[server]\n", "[server]\nenabled = true\n", 1)
        .replace("\nenabled = false\n", "\n", 1)
    )


def test_the_init_template_carries_the_webhook_secret_the_server_needs(tmp_path, monkeypatch):
    for name in ("WOO_CONSUMER_KEY", "WOO_CONSUMER_SECRET", "WOO_WEBHOOK_SECRET"):
        monkeypatch.setenv(name, f"value-of-{name.lower()}")
    text = starter_with_the_shop_and_the_server_on()

    settings = load_settings(write(tmp_path, text))

    assert settings.server.enabled is True
    assert settings.channels["my-shop"].options["webhook_secret"].get_secret_value() == (
        "value-of-woo_webhook_secret"
    )
