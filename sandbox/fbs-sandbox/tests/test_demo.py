"""``fbs demo`` runs the real plugins and scheduler against the imitations, end to end.

One small demo run (through the command line, as a user starts it) is shared by the
tests that read its summary; the kept config is then used with ``fbs orders list``.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result

from fbs_core.cli import main
from fbs_core.config import load_settings
from fbs_core.sourcing.geo import zip_state
from fbs_sandbox.demo import DemoFailed, DemoSettings, place_orders, run_demo
from fbs_sandbox.demo_data import CORE_PART, PARTS, WAREHOUSES, plan_orders, problem_count
from fbs_sandbox.demo_stores import WooCommerceDemoStore

ORDERS = 12
PROBLEM_REASONS = {"non_us_destination", "military_not_enabled", "unknown_sku"}
FINISHED = {"completed", "cancelled", "rejected", "held"}


def fbs(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("demo") / "run"
    result = fbs("demo", "--orders", str(ORDERS), "--json", "--dir", str(folder))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_order_placed_is_imported_and_finished(demo: dict[str, Any]) -> None:
    assert demo["orders"] == ORDERS
    assert sum(demo["by_status"].values()) == ORDERS
    assert set(demo["by_status"]) <= FINISHED
    assert all(demo["checks"].values()), demo["checks"]


def test_problem_orders_are_held_or_rejected_with_their_reasons(demo: dict[str, Any]) -> None:
    assert demo["rejected_reasons"] == {"non_us_destination": 1, "military_not_enabled": 1}
    assert demo["held_reasons"] == {"unknown_sku": 1}
    reasons = {**demo["held_reasons"], **demo["rejected_reasons"]}
    assert set(reasons) == PROBLEM_REASONS
    assert demo["by_status"]["completed"] == ORDERS - sum(reasons.values())


def test_one_charge_and_one_tracking_push_per_completed_order(demo: dict[str, Any]) -> None:
    completed = demo["by_status"]["completed"]
    sandbox = demo["sandbox"]
    assert demo["charges"] == completed == sandbox["charges"]
    assert demo["tracking_pushed"] == completed == sandbox["tracking_pushes"]
    assert sandbox["orders_completed_on_store"] == completed
    assert sum(demo["purchase_orders_by_warehouse"].values()) == sandbox["purchase_orders"]
    assert demo["money"]["charged_cents"] == sandbox["charged_cents"] > 0
    assert demo["money"]["refunded_cents"] == sandbox["refunded_cents"] == 0


def test_nothing_happened_twice(demo: dict[str, Any]) -> None:
    assert demo["sandbox"]["duplicate_effects"] == 0


def test_purchase_orders_spread_over_the_warehouses(demo: dict[str, Any]) -> None:
    used = demo["purchase_orders_by_warehouse"]
    assert len(used) >= 2
    assert set(used) <= {spec.name for spec in WAREHOUSES}
    by_region = demo["purchase_orders_by_buyer_region"]
    assert sum(sum(counts.values()) for counts in by_region.values()) == sum(used.values())


def test_money_breakdown_adds_up(demo: dict[str, Any]) -> None:
    money = demo["money"]
    parts = ("parts_cents", "core_charges_cents", "shipping_cents", "tax_cents")
    assert money["charged_cents"] == sum(money[key] for key in parts)


def test_kept_config_loads_and_lists_every_order(demo: dict[str, Any]) -> None:
    config = Path(demo["config"])
    database = Path(demo["database"])
    assert database.is_file() and database.parent == config.parent
    settings = load_settings(config)
    assert {i.type for i in settings.channels.values()} == {"woocommerce"}
    assert {i.type for i in settings.payments.values()} == {"stripe"}
    assert {i.type for i in settings.suppliers.values()} == {"http"}

    result = fbs("--config", str(config), "orders", "list", "--json")

    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert len(listed) == ORDERS
    statuses: dict[str, int] = {}
    for order in listed:
        statuses[order["status"]] = statuses.get(order["status"], 0) + 1
    assert statuses == demo["by_status"]
    reasons = {o["hold_reason"] for o in listed if o["status"] in ("held", "rejected")}
    assert reasons == PROBLEM_REASONS


def test_the_imitations_are_stopped_after_the_run(demo: dict[str, Any]) -> None:
    settings = load_settings(Path(demo["config"]))
    urls = [str(i.options["url"]) for i in settings.channels.values()]
    urls += [str(i.options["base_url"]) for i in settings.suppliers.values()]
    for url in urls:
        parts = urlsplit(url)
        assert parts.hostname == "127.0.0.1"
        with socket.socket() as sock:
            assert sock.connect_ex((parts.hostname, parts.port or 80)) != 0


def test_summary_names_the_config_to_inspect(tmp_path: Path) -> None:
    result = fbs("demo", "--orders", "4", "--dir", str(tmp_path / "run"))

    assert result.exit_code == 0, result.output
    config = tmp_path / "run" / "fbs.toml"
    assert f"inspect:  fbs orders list --config {config}" in result.stdout
    assert "checks: all" in result.stdout
    assert "non_us_destination 1" in result.stdout


def test_too_few_orders_is_a_usage_error() -> None:
    result = fbs("demo", "--orders", "3")

    assert result.exit_code == 2
    assert "--orders" in result.output


def test_a_folder_with_files_in_it_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fbs.toml").write_text("# mine\n")

    result = fbs("demo", "--dir", str(tmp_path))

    assert result.exit_code == 2
    assert "must be empty" in result.output
    assert (tmp_path / "fbs.toml").read_text() == "# mine\n"


def test_running_out_of_time_names_what_is_stuck(tmp_path: Path) -> None:
    settings = DemoSettings(orders=4, time_limit=0.001, folder=tmp_path)

    with pytest.raises(DemoFailed, match="did not finish within") as caught:
        run_demo(settings)

    assert "of 4 orders finished" in str(caught.value)


def test_a_database_url_in_the_environment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FBS_DATABASE_URL", f"sqlite:///{tmp_path / 'merchant.db'}")

    with pytest.raises(DemoFailed, match="FBS_DATABASE_URL") as caught:
        run_demo(DemoSettings(orders=4, folder=tmp_path / "run"))

    assert "--database-url" in str(caught.value)
    assert not (tmp_path / "merchant.db").exists()


def test_the_demo_runs_on_the_database_named_by_database_url(
    fbs_database_url: str, tmp_path: Path
) -> None:
    """Two runs on one database (PostgreSQL when FBS_TEST_DATABASE_URL names one) each
    see their own orders: every run is a merchant of its own."""
    runs = []
    for name in ("first", "second"):
        result = fbs(
            "demo",
            "--orders",
            "4",
            "--json",
            "--dir",
            str(tmp_path / name),
            "--database-url",
            fbs_database_url,
        )
        assert result.exit_code == 0, result.output
        runs.append(json.loads(result.stdout))

    for run in runs:
        assert run["orders"] == sum(run["by_status"].values()) == 4
        assert all(run["checks"].values()), run["checks"]
        settings = load_settings(Path(run["config"]))
        assert settings.database_url == fbs_database_url
        listed = fbs("--config", run["config"], "orders", "list", "--json")
        assert listed.exit_code == 0, listed.output
        assert len(json.loads(listed.stdout)) == 4
    merchants = {load_settings(Path(run["config"])).merchant_id for run in runs}
    assert len(merchants) == 2


def test_a_database_that_cannot_be_opened_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://fbs:hunter2@127.0.0.1:{port}/fbs_demo"

    result = fbs("demo", "--orders", "4", "--dir", str(tmp_path), "--database-url", url)

    assert result.exit_code == 2  # a user error, like every database that cannot be opened
    assert "Traceback" not in result.output and "hunter2" not in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "database_url: cannot open the database" in line
    assert "Connection refused" in line or "connection failed" in line


def test_a_database_url_the_demo_cannot_use_is_one_clear_error(tmp_path: Path) -> None:
    result = fbs("demo", "--orders", "4", "--dir", str(tmp_path), "--database-url", "mysql://x/y")

    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "--database-url" in result.output and "postgresql://" in result.output


# -- the demo's data -------------------------------------------------------------------


def test_problem_orders_stay_few_as_the_run_grows() -> None:
    for count in (4, 12, 60, 200, 1000):
        planned = plan_orders(count, seed=1)
        problems = [p for p in planned if p.expect != "completed"]
        assert len(planned) == count
        assert len(problems) == 3 * problem_count(count) <= count // 10 + 3
        assert {p.expect for p in problems} == PROBLEM_REASONS


def test_same_seed_places_the_same_orders() -> None:
    assert plan_orders(30, seed=5) == plan_orders(30, seed=5)
    assert plan_orders(30, seed=5) != plan_orders(30, seed=6)


def test_us_addresses_are_real_zip_codes_of_their_state() -> None:
    for order in plan_orders(300, seed=3):
        if order.expect in ("completed", "unknown_sku"):
            address = order.shipping
            assert zip_state(address["postcode"]) == address["state"], address


def test_every_ordinary_order_can_ship_from_one_warehouse() -> None:
    stocked = [set(spec.stock()) for spec in WAREHOUSES]
    for order in plan_orders(300, seed=4):
        if order.expect == "completed":
            skus = {part.sku for part, _ in order.lines}
            assert any(skus <= have for have in stocked), skus


def test_warehouses_overlap_at_different_costs_and_one_part_has_a_core() -> None:
    assert PARTS[CORE_PART].core_charge_cents > 0
    costs: dict[str, set[int]] = {}
    for spec in WAREHOUSES:
        for sku, item in spec.stock().items():
            costs.setdefault(sku, set()).add(item.unit_cost_cents)
    shared = [sku for sku, seen in costs.items() if len(seen) > 1]
    assert len(shared) >= 5
    assert len({spec.ship_from_zip for spec in WAREHOUSES}) == 3


def test_store_prices_cover_the_cost_of_buying() -> None:
    for part in PARTS.values():
        assert part.retail_cents > part.cost_cents + part.core_charge_cents


def test_orders_are_dealt_out_between_the_stores_in_turn() -> None:
    stores = {"demo-a": WooCommerceDemoStore(), "demo-b": WooCommerceDemoStore()}
    planned = plan_orders(7, seed=5)

    expected = place_orders(stores, planned)

    assert [name for name, _ in expected] == ["demo-a", "demo-b"] * 3 + ["demo-a"]
    assert list(expected.values()) == [order.expect for order in planned]
    assert [len(store.store.orders) for store in stores.values()] == [4, 3]


def test_a_channel_without_a_demo_store_is_a_usage_error_naming_those_there_are() -> None:
    result = fbs("demo", "--channel", "magento")

    assert result.exit_code == 2
    assert "'magento' has no demo store; choose from woocommerce, shopify, ebay" in result.output


def test_a_mixed_demo_runs_each_store_through_its_own_plugin(tmp_path: Path) -> None:
    result = fbs(
        "demo",
        "--channel",
        "woocommerce",
        "--channel",
        "shopify",
        "--channel",
        "ebay",
        "--orders",
        "9",
        "--json",
        "--dir",
        str(tmp_path / "mixed"),
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["checks"] and all(report["checks"].values()), report["checks"]
    config = load_settings(tmp_path / "mixed" / "fbs.toml")
    assert {name: c.type for name, c in config.channels.items()} == {
        "demo-woocommerce": "woocommerce",
        "demo-shopify": "shopify",
        "demo-ebay": "ebay",
    }
