"""The command line: init, check, --help, and how user errors are reported."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from fbs_core.cli import COMMANDS, FbsGroup, load_all_commands, main
from fbs_core.cli.init_cmd import starter_config
from fbs_core.cli.orders_cmd import ORDER_STATUSES
from fbs_core.config import load_settings
from fbs_core.domain import OrderStatus
from fbs_core.errors import ConfigError

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("FBS_CONFIG", "FBS_DATABASE_URL", "FBS_BLOCK_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FBS_LOAD_PLUGINS", "")  # only what a test's config names


def cells(line: str) -> list[str]:
    """The cells of one row of a rich table."""
    return [cell.strip() for cell in line.strip().strip("│").split("│")]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_init_writes_a_starter_that_loads_and_check_says_what_is_missing(tmp_path):
    result = run("init")
    assert result.exit_code == 0, result.output
    written = (tmp_path / "fbs.toml").read_text()
    assert written == starter_config()

    settings = load_settings(tmp_path / "fbs.toml")
    assert settings.channels == settings.suppliers == settings.payments == {}

    check = run("check")
    assert check.exit_code == 2, check.output
    assert check.stderr.startswith("error: fbs.toml: nothing is configured: add a [channels.")
    assert "Plugin problems" not in check.stdout


def test_every_starter_key_is_documented_by_a_comment():
    lines = starter_config().splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            key = line.split("=")[0].strip()
            previous = lines[i - 1].strip() if i else ""
            assert previous.startswith("#") or "=" in previous, f"{key} has no comment above it"


def test_init_writes_to_a_given_path_and_refuses_to_overwrite(tmp_path):
    assert run("init", "conf/fbs.toml").exit_code == 2  # no such folder
    (tmp_path / "conf").mkdir()
    assert run("init", "conf/fbs.toml").exit_code == 0
    (tmp_path / "conf" / "fbs.toml").write_text("# mine\n")

    again = run("init", "conf/fbs.toml")
    assert again.exit_code == 2
    assert again.stderr == "error: conf/fbs.toml already exists; not overwriting it\n"
    assert (tmp_path / "conf" / "fbs.toml").read_text() == "# mine\n"


def test_check_reports_a_misspelled_key_with_file_key_and_suggestion(tmp_path):
    (tmp_path / "fbs.toml").write_text('[fulfillment]\non_no_stok = "hold"\n')
    result = run("check")

    assert result.exit_code == 2
    assert result.stderr == (
        "error: fbs.toml: fulfillment.on_no_stok: unknown key; did you mean 'on_no_stock'?\n"
    )
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_check_prints_one_error_line_per_problem(tmp_path):
    (tmp_path / "fbs.toml").write_text("nope = 1\n[scheduler]\nworkers = 0\n")
    result = run("check")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("error: fbs.toml: ") for line in lines)


def test_check_without_any_config_says_where_it_looked():
    result = run("check")
    assert result.exit_code == 2
    assert "--config" in result.stderr and "FBS_CONFIG" in result.stderr
    assert "fbs init" in result.stderr


def test_check_calls_every_instance_and_exits_1_on_a_failure(
    tmp_path,
    installed_fake_dist,
    monkeypatch,
):
    installed_fake_dist(DATA / "fake-dist")
    monkeypatch.setenv("EAST_KEY", "east-secret-value")
    config = tmp_path / "shop.toml"
    config.write_text(
        """
[plugins]
modules = ["fbs_fake_plugin.ok", "fbs_fake_plugin.importerror"]

[suppliers.east]
type = "fake-ok"
[suppliers.east.options]
base_url = "https://east.example.test"
api_key = { env = "EAST_KEY" }

[suppliers.west]
type = "fake-ok"
[suppliers.west.options]
base_url = "https://west.example.test"
api_key = "west-key-in-the-file"
reject_credentials = true

[suppliers.north]
type = "not-installed"
enabled = false
"""
    )
    result = run("--config", str(config), "check")

    assert result.exit_code == 1, result.output
    rows = [cells(line) for line in result.stdout.splitlines() if "fake-ok" in line]
    assert rows == [
        ["east", "supplier", "fake-ok", "ok"],
        ["west", "supplier", "fake-ok", "auth_failed: the warehouse refused the API key"],
    ]
    assert "fbs_fake_plugin.importerror" in result.stdout  # plugin problems are listed too
    assert "1 ok, 1 failed" in result.stdout
    assert "east-secret-value" not in result.output
    assert "west-key-in-the-file" not in result.output

    monkeypatch.setenv("FBS_CONFIG", str(config))  # the same file, found through the env
    assert run("check").exit_code == 1


def test_check_reports_an_unknown_type_as_a_config_error(tmp_path):
    (tmp_path / "fbs.toml").write_text('[payments.card]\ntype = "strpe"\n')
    result = run("check")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: fbs.toml: payments.card.type: unknown payment type 'strpe'; installed: none\n"
    )


def test_help_lists_the_commands_and_version_is_printed():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("init", "check", "plugins"):
        assert f"  {command} " in result.stdout
    assert "--config" in result.stdout and "--verbose" in result.stdout
    version = run("--version")
    assert version.exit_code == 0 and version.stdout.startswith("fbs, version ")


def test_only_fbs_errors_are_turned_into_messages():
    @click.group(cls=FbsGroup)
    def group():
        pass

    @group.command()
    def user_mistake():
        raise ConfigError("fbs.toml: a: first\nfbs.toml: b: second")

    @group.command()
    def bug():
        raise ValueError("a real bug")

    mistake = CliRunner().invoke(group, ["user-mistake"])
    assert mistake.exit_code == 2
    assert mistake.stderr == "error: fbs.toml: a: first\nerror: fbs.toml: b: second\n"
    crash = CliRunner().invoke(group, ["bug"])
    assert isinstance(crash.exception, ValueError)  # keeps its traceback


def test_the_help_listing_is_each_command_s_own_first_line():
    for name, command in load_all_commands().items():
        assert COMMANDS[name][1] == command.get_short_help_str(limit=1000), name


def test_the_status_choices_are_the_order_statuses():
    assert tuple(status.value for status in OrderStatus) == ORDER_STATUSES
