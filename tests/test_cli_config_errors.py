"""Every command answers a broken setting with one clear line, never with a traceback.

A merchant's mistake (a wrong key, a wrong type, a database that cannot be opened, a port
that cannot be served) must come back as ``error: <file>: <key>: <problem>`` with exit
status 2, whichever command met it and wherever ``--config`` was written.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fbs_core.cli import main

DATA = Path(__file__).parent / "data"

BASE = """
[plugins]
modules = ["fbs_core.testing.fakes"]

[suppliers.east]
type = "fake-supplier"

[payments.card]
type = "fake-payment"
"""
"""A working config without a channel (so the webhook server needs no channel secret)."""

DATABASE_COMMANDS = [
    ("check",),
    ("run", "--until-idle"),
    ("orders", "list"),
    ("orders", "show", "1"),
    ("orders", "approve", "1"),
    ("orders", "cancel", "1", "--yes"),
    ("orders", "retry", "1"),
    ("db", "upgrade"),
]
EVERY_COMMAND = [*DATABASE_COMMANDS, ("plugins",)]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("FBS_CONFIG", "FBS_DATABASE_URL", "FBS_BLOCK_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FBS_LOAD_PLUGINS", "")


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program is listening on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_one_clear_line(result: Result, key: str, problem: str) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: fbs.toml: {key}: "), lines[0]
    assert problem in lines[0], lines[0]


BROKEN = [
    pytest.param(
        'database_url = "mysql://shop@127.0.0.1/fbs"\n',
        "database_url",
        "mysql",
        DATABASE_COMMANDS,
        id="mysql-url",
    ),
    pytest.param(
        'database_url = "this is not a url"\n',
        "database_url",
        "not a database URL",
        DATABASE_COMMANDS,
        id="unparsable-url",
    ),
    pytest.param(
        'database_url = "postgresql://shop@127.0.0.1:notaport/fbs"\n',
        "database_url",
        "not a database URL fbs can read",
        DATABASE_COMMANDS,
        id="url-with-a-bad-port",
    ),
    pytest.param(
        'database_url = "postgresql://postgres@127.0.0.1:5432/fbs_no_such_database"\n',
        "database_url",
        "cannot open the database",
        DATABASE_COMMANDS,
        id="postgres-database-missing",
    ),
    pytest.param(
        'database_url = "sqlite:///no/such/folder/fbs.db"\n',
        "database_url",
        "does not exist",
        DATABASE_COMMANDS,
        id="sqlite-folder-missing",
    ),
    pytest.param(
        "[server]\nport = 70000\n", "server.port", "65535", EVERY_COMMAND, id="port-out-of-range"
    ),
    pytest.param('merchant_id = ""\n', "merchant_id", "slug", EVERY_COMMAND, id="merchant-empty"),
    pytest.param(
        'merchant_id = "Acme Parts / Shop #1 ünïcode"\n',
        "merchant_id",
        "lowercase letters, digits and '-'",
        EVERY_COMMAND,
        id="merchant-not-a-slug",
    ),
    pytest.param(
        f'merchant_id = "{"a" * 33}"\n',
        "merchant_id",
        "at most 32 characters",
        EVERY_COMMAND,
        id="merchant-too-long",
    ),
]


@pytest.mark.parametrize(("prefix", "key", "problem", "commands"), BROKEN)
def test_a_broken_top_level_setting_is_one_line_from_every_command(
    tmp_path, prefix, key, problem, commands
):
    (tmp_path / "fbs.toml").write_text(prefix + BASE)
    for command in commands:
        result = invoke(*command, "--config", "fbs.toml")
        assert_one_clear_line(result, key, problem)


@pytest.mark.parametrize(
    ("instance_lines", "key", "problem"),
    [
        ('poll_interval = "30"\n', "suppliers.east.poll_interval", "'30'"),
        ('enabled = "yes"\n', "suppliers.east.enabled", "'yes'"),
        (
            '[suppliers.east.options]\nledger = { envv = "LEDGER" }\n',
            "suppliers.east.options.ledger.envv",
            "unknown key; did you mean 'env'?",
        ),
    ],
    ids=["poll-interval-string", "enabled-string", "env-misspelled"],
)
def test_a_loosely_typed_instance_setting_is_one_line_from_every_command(
    tmp_path, instance_lines, key, problem
):
    (tmp_path / "fbs.toml").write_text(
        BASE.replace('type = "fake-supplier"\n', 'type = "fake-supplier"\n' + instance_lines, 1)
    )
    for command in EVERY_COMMAND:
        result = invoke(*command, "--config", "fbs.toml")
        assert_one_clear_line(result, key, problem)


def test_a_port_in_use_is_reported_by_check_and_by_run(tmp_path, busy_port):
    (tmp_path / "fbs.toml").write_text(f"[server]\nenabled = true\nport = {busy_port}\n" + BASE)
    for command in (("check",), ("run",)):
        result = invoke(*command, "--config", "fbs.toml")
        assert_one_clear_line(result, "server.port", f"127.0.0.1:{busy_port} is already in use")


def test_check_reports_a_free_server_address_and_the_database_state(tmp_path):
    (tmp_path / "fbs.toml").write_text(BASE)
    first = invoke("check")
    assert first.exit_code == 0, first.output
    assert "database: empty; 'fbs run' creates the schema" in first.stdout
    assert "webhook server: off" in first.stdout

    assert invoke("db", "upgrade").exit_code == 0
    again = invoke("check")
    assert again.exit_code == 0, again.output
    assert "database: at revision" in again.stdout and "(current)" in again.stdout


# -- where the options go, where the file came from -------------------------------------


def test_config_and_verbose_are_accepted_after_any_command(tmp_path):
    (tmp_path / "shop.toml").write_text(BASE)
    assert invoke("db", "upgrade", "--config", "shop.toml").exit_code == 0
    for command in (
        ("orders", "list", "--config", "shop.toml"),
        ("orders", "list", "--config=shop.toml", "-v"),
        ("orders", "--config", "shop.toml", "list"),
        ("check", "-vv", "--config", "shop.toml"),
        ("plugins", "--config", "shop.toml"),
    ):
        result = invoke(*command)
        assert result.exit_code == 0, (command, result.output)
        assert "No such option" not in result.output
    before = invoke("--config", "shop.toml", "orders", "list")
    assert before.exit_code == 0, before.output


def test_help_of_a_command_shows_config_and_verbose():
    result = invoke("orders", "list", "--help")
    assert "--config" in result.stdout and "--verbose" in result.stdout


def test_a_missing_file_named_by_fbs_config_says_so(monkeypatch):
    monkeypatch.setenv("FBS_CONFIG", "gone.toml")
    result = invoke("orders", "list")
    assert result.exit_code == 2
    assert result.stderr == "error: gone.toml: config file not found (named by FBS_CONFIG)\n"


def test_an_empty_config_fails_check_saying_nothing_is_configured(tmp_path):
    (tmp_path / "fbs.toml").write_text("")
    result = invoke("check")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: fbs.toml: nothing is configured")


# -- secrets are resolved only by commands that build adapters ---------------------------


SECRET_CONFIG = """
[plugins]
modules = ["fbs_fake_plugin.ok"]

[suppliers.east]
type = "fake-ok"
[suppliers.east.options]
base_url = "https://east.example.test"
api_key = { env = "EAST_KEY_NOT_SET" }
"""


def test_read_only_commands_do_not_need_the_secrets(tmp_path, installed_fake_dist, monkeypatch):
    installed_fake_dist(DATA / "fake-dist")
    monkeypatch.delenv("EAST_KEY_NOT_SET", raising=False)
    (tmp_path / "fbs.toml").write_text(SECRET_CONFIG)
    for command in (("db", "upgrade"), ("orders", "list"), ("plugins",)):
        result = invoke(*command)
        assert result.exit_code == 0, (command, result.output)
    shown = invoke("orders", "show", "7")
    assert shown.stderr == "error: there is no order 7\n"

    for command in (("check",), ("run", "--until-idle"), ("orders", "approve", "7")):
        result = invoke(*command)
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr == (
            "error: fbs.toml: suppliers.east.options.api_key: "
            "environment variable EAST_KEY_NOT_SET is not set\n"
        )


def test_a_database_url_from_the_environment_is_named_as_such(tmp_path, monkeypatch):
    (tmp_path / "fbs.toml").write_text(BASE)
    monkeypatch.setenv("FBS_DATABASE_URL", "mysql://shop@127.0.0.1/fbs")
    result = invoke("orders", "list")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: fbs.toml: database_url (from FBS_DATABASE_URL): fbs does not work with "
        "'mysql' databases; use sqlite or postgresql\n"
    )
