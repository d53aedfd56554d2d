"""What the commands do for a merchant at a terminal and for cron: check, run, orders.

Covers ``fbs check`` on slow instances, ``fbs run --until-idle`` exit status and summary,
``fbs orders list`` paging and ``fbs orders cancel`` confirmation, secret masking, and
which libraries a command imports before it does anything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import stripe
from click.testing import CliRunner, Result
from pydantic import SecretStr

from fbs_core.cli import main
from fbs_core.config import scrub_secrets
from fbs_core.errors import RetriableError
from fbs_core.testing import fakes
from fbs_payment_stripe.errors import from_stripe
from fbs_supplier_http.client import WarehouseClient

DATA = Path(__file__).parent / "data"

FAKES = """
[plugins]
modules = ["fbs_core.testing.fakes"]

[channels.shop]
type = "fake-channel"
[channels.shop.options]
generate = {orders}

[suppliers.east]
type = "fake-supplier"
[suppliers.east.options]
generated_stock_seed = 1

[payments.card]
type = "fake-payment"
"""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("FBS_CONFIG", "FBS_DATABASE_URL", "FBS_BLOCK_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FBS_LOAD_PLUGINS", "")


def invoke(*args: str, **kwargs) -> Result:
    return CliRunner().invoke(main, list(args), **kwargs)


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("│").split("│")]


# -- fbs check ----------------------------------------------------------------------------

SLOW = """
[plugins]
modules = ["fbs_fake_plugin.ok"]

[suppliers.stuck]
type = "fake-ok"
[suppliers.stuck.options]
base_url = "https://stuck.example.test"
api_key = "k-stuck"
check_seconds = 120

[suppliers.quick]
type = "fake-ok"
[suppliers.quick.options]
base_url = "https://quick.example.test"
api_key = "k-quick"
"""


def test_check_gives_up_on_an_instance_that_never_answers_and_shows_progress(
    tmp_path, installed_fake_dist
):
    installed_fake_dist(DATA / "fake-dist")
    (tmp_path / "fbs.toml").write_text(SLOW)
    try:
        result = invoke("check", "--timeout", "0.5")
    finally:
        sys.modules["fbs_fake_plugin.ok"].RELEASE.set()
    assert result.exit_code == 1, result.output
    rows = {cells(line)[0]: cells(line) for line in result.stdout.splitlines() if "fake-ok" in line}
    assert rows["stuck"] == ["stuck", "supplier", "fake-ok", "timeout: no answer within 0.5 s"]
    assert rows["quick"] == ["quick", "supplier", "fake-ok", "ok"]
    assert "checking 2 instances at once (timeout 0.5 s)" in result.stderr
    assert "quick: ok" in result.stderr
    assert "stuck: timeout: no answer within 0.5 s" in result.stderr


def test_check_shows_what_a_passing_check_says_with_secrets_masked(tmp_path, installed_fake_dist):
    installed_fake_dist(DATA / "fake-dist")
    config = SLOW.replace("check_seconds = 120", 'note = "41 of 5000 calls today (key k-stuck)"')
    (tmp_path / "fbs.toml").write_text(config)

    result = invoke("check")

    assert result.exit_code == 0, result.output
    assert "stuck: ok (41 of 5000 calls today (key **********))" in result.stderr
    assert "k-stuck" not in result.output
    assert "quick: ok" in result.stderr


def test_check_timeout_is_ten_seconds_unless_given():
    result = invoke("check", "--help")
    assert "--timeout" in result.stdout and "default: 10" in result.stdout


def test_a_check_line_never_promises_a_retry():
    error = from_stripe(stripe.APIConnectionError("connection refused"), "looking up customer")
    assert "retry" not in error.message
    assert error.message.startswith("Could not reach Stripe while looking up customer")


# -- fbs run --until-idle -----------------------------------------------------------------


def test_run_until_idle_exits_3_with_the_summary_on_stdout_when_a_poll_failed(tmp_path):
    (tmp_path / "fbs.toml").write_text(FAKES.format(orders=2))
    fakes.fail_next("shop", RetriableError("the store did not answer"), method="fetch_orders")
    result = invoke("run", "--until-idle")
    assert result.exit_code == 3, result.output
    assert result.stdout.splitlines()[0].startswith("idle after 1 pass(es)")
    assert "poll failed: channel shop: upstream_unavailable: the store did not answer" in (
        result.stdout
    )
    assert "orders: no orders" in result.stdout
    assert "idle after" not in result.stderr


def test_run_until_idle_json_for_scripts(tmp_path):
    (tmp_path / "fbs.toml").write_text(FAKES.format(orders=2))
    result = invoke("run", "--until-idle", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["failed_polls"] == []
    assert sum(summary["orders"].values()) == 2
    assert summary["polls"] >= 2 and summary["passes"] >= 1

    fakes.fail_next("shop", RetriableError("the store did not answer"), method="fetch_orders")
    failed = invoke("run", "--until-idle", "--json")
    assert failed.exit_code == 3
    assert json.loads(failed.stdout)["failed_polls"] == [
        {
            "kind": "channel",
            "instance": "shop",
            "error": "upstream_unavailable: the store did not answer",
        }
    ]


# -- fbs orders ----------------------------------------------------------------------------


def test_orders_list_shows_the_newest_50_with_a_count_line(tmp_path):
    (tmp_path / "fbs.toml").write_text(
        FAKES.format(orders=55) + '\n[fulfillment]\nmode = "manual"\n'
    )
    assert invoke("run", "--until-idle").exit_code == 0

    default = invoke("orders", "list")
    assert default.exit_code == 0, default.output
    rows = [line for line in default.stdout.splitlines() if "│ shop" in line]
    assert len(rows) == 50
    assert cells(rows[0])[0] == "55"
    assert "showing the newest 50 of 55 orders; --limit N or --all for more" in default.stdout

    everything = invoke("orders", "list", "--all")
    assert len([line for line in everything.stdout.splitlines() if "│ shop" in line]) == 55
    assert "55 orders" in everything.stdout

    some = invoke("orders", "list", "--limit", "3", "--json")
    assert [order["id"] for order in json.loads(some.stdout)] == [55, 54, 53]


def test_orders_cancel_asks_on_a_terminal_and_yes_skips_the_question(tmp_path):
    (tmp_path / "fbs.toml").write_text(
        FAKES.format(orders=1) + '\n[fulfillment]\nmode = "manual"\n'
    )
    assert invoke("run", "--until-idle").exit_code == 0

    declined = at_a_terminal(tmp_path, ["orders", "cancel", "1"], answer="n\n")
    assert "Cancel order 1" in declined and "[y/N]" in declined
    assert status_of(1) == "held"

    confirmed = at_a_terminal(tmp_path, ["orders", "cancel", "1"], answer="y\n")
    assert "order 1: cancelled" in confirmed
    assert status_of(1) == "cancelled"


def test_orders_cancel_with_yes_asks_nothing(tmp_path):
    (tmp_path / "fbs.toml").write_text(
        FAKES.format(orders=1) + '\n[fulfillment]\nmode = "manual"\n'
    )
    assert invoke("run", "--until-idle").exit_code == 0
    output = at_a_terminal(tmp_path, ["orders", "cancel", "1", "--yes"], answer="")
    assert "[y/N]" not in output
    assert status_of(1) == "cancelled"


def status_of(order_id: int) -> str:
    shown = invoke("orders", "show", str(order_id), "--json")
    return json.loads(shown.stdout)["order"]["status"]


def at_a_terminal(folder: Path, args: list[str], answer: str) -> str:
    """Run ``fbs`` with a pseudo-terminal as stdin/stdout; type ``answer``; return its output."""
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    env = {**os.environ, "FBS_LOAD_PLUGINS": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "fbs_core", *args],
        cwd=folder,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    output = b""
    sent = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if not sent and (b"[y/N]" in output or answer == ""):
            os.write(master, answer.encode())
            sent = True
    process.wait(timeout=60)
    os.close(master)
    return output.decode(errors="replace")


# -- secret masking -------------------------------------------------------------------------


def test_a_short_secret_never_mangles_words():
    message = "GET /v1/stock: could not reach the warehouse (ConnectError: refused)"
    assert scrub_secrets(message, ["e"]) == message
    assert scrub_secrets(message, ["ware"]) == message


def test_a_whole_secret_value_is_masked_wherever_it_stands():
    assert scrub_secrets("token sk_live_abc123 refused", ["sk_live_abc123"]) == (
        "token ********** refused"
    )
    assert scrub_secrets("key=e;", ["e"]) == "key=**********;"


def test_the_warehouse_client_keeps_its_message_readable_with_a_one_letter_key():
    client = WarehouseClient("http://127.0.0.1:9", SecretStr("e"), timeout=2)
    try:
        with pytest.raises(RetriableError) as raised:
            client.get_stock(["AB-1"])
    finally:
        client.close()
    assert "could not reach the warehouse" in raised.value.message
    assert "*" not in raised.value.message


# -- start-up: what a command imports ---------------------------------------------------------


def imported_by(*args: str) -> set[str]:
    """Top-level packages imported by ``fbs <args>`` in a fresh interpreter."""
    code = (
        "import sys\n"
        "from fbs_core.cli import main\n"
        "try:\n"
        f"    main({list(args)!r}, prog_name='fbs')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('MODULES', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def test_help_imports_no_database_web_or_validation_library():
    modules = imported_by("--help")
    assert not modules & {"sqlalchemy", "alembic", "uvicorn", "starlette", "pydantic", "rich"}


def test_orders_list_imports_no_web_server(tmp_path):
    (tmp_path / "fbs.toml").write_text(FAKES.format(orders=0))
    modules = imported_by("orders", "list")
    assert not modules & {"uvicorn", "starlette", "apscheduler", "alembic"}


def test_the_revision_read_from_the_migration_files_is_alembic_s_head():
    from fbs_core.cli.database import head_revision
    from fbs_core.db.migrate import head_revision as alembic_head

    assert head_revision() == alembic_head()
