"""A plugin that fails to import, and one that raises in every hook, stop nothing else."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fbs_core.cli import main
from fbs_core.db import repository as repo
from fbs_core.testing import fakes
from fbs_core.testing.fakes import make_order
from fbs_core.testing.harness import basic_config, build_engine

FAKE_DIST = Path(__file__).parent / "data" / "fake-dist"


def test_orders_flow_while_broken_plugins_are_installed(
    installed_fake_dist, fbs_database_url, ledger
):
    installed_fake_dist(FAKE_DIST)
    engine = build_engine(fbs_database_url, basic_config(), load_entrypoints=True)
    try:
        fakes.market("default").add(make_order("A1", [("ALT-REMAN-CIV", 1)]))
        fakes.market("default").add(make_order("A2", [("NOPE-1", 1)]))

        engine.run_until_idle()

        with engine.db.transaction() as session:
            orders = {o.external_id: o for o in repo.list_orders(session, "default")}
            timeline = repo.order_detail(session, "default", orders["A1"].id).timeline
        assert orders["A1"].status.value == "completed"
        assert orders["A2"].hold_reason == "unknown_sku"
        assert ledger.count("charge") == 1
        # every notification was delivered to the raising plugin and isolated
        assert {e.event for e in timeline} >= {
            "imported",
            "sourced",
            "charged",
            "ordered",
            "completed",
        }
        failed = {(f.plugin, f.stage) for f in engine.runtime.pm.failures}
        assert ("fbs-fake-importerror", "load") in failed
        assert ("fbs-fake-raising", "fbs_sourcing_plan") in failed
        assert ("fbs-fake-raising", "fbs_shipping_estimate") in failed
        assert ("fbs-fake-raising", "fbs_order_completed") in failed
    finally:
        engine.stop()
        engine.db.dispose()


def test_fbs_plugins_names_the_culprits(installed_fake_dist, tmp_path, monkeypatch):
    installed_fake_dist(FAKE_DIST)
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["plugins", "--json"])

    assert result.exit_code == 0, result.output
    assert "fbs-fake-importerror" in result.output
    assert "fbs-fake-raising" in result.output
    assert "registration exploded" in result.output
