"""Kill the broker at random instants and at every named step boundary; nothing is lost or doubled.

The broker runs as a real process (``python -m fbs_core run --until-idle``) on a real
database, with the fake plugins recording every effect in a ledger file that outlives
each killed process. After the kills, plain restarts must finish every order, and the
ledger must show each charge, purchase order and tracking push exactly once in effect.
Set ``FBS_CRASH_SEED`` to replay a failing run; the seed is printed either way.
"""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest

from fbs_core.faults import CRASH_POINTS
from fbs_core.testing import broker_runs as runs
from fbs_core.testing.broker_runs import kill_after
from fbs_core.testing.ledger import EffectLedger

ORDERS = 40
RANDOM_KILLS = 50


def write_config(folder: Path, database_url: str) -> Path:
    return runs.write_config(folder, database_url, orders=ORDERS)


def broker(config: Path, **env: str) -> subprocess.Popen[bytes]:
    return runs.broker(config, "--until-idle", **env)


def finish(config: Path, runs_left: int = 30) -> None:
    """Restart without faults until a run ends cleanly and everything is final."""
    for _ in range(runs_left):
        time.sleep(1.1)  # let leases held by killed processes expire
        process = broker(config)
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr.decode()
        if runs.all_final(config, ORDERS):
            return
    pytest.fail("orders still not final after clean restarts")


def check_exactly_once(config: Path, ledger: EffectLedger) -> None:
    runs.check_exactly_once(config, ledger, ORDERS)


def test_sigkill_at_random_instants_loses_nothing_and_doubles_nothing(
    tmp_path, fbs_database_url, crash_seed
):
    rng = random.Random(crash_seed)
    config = write_config(tmp_path, fbs_database_url)
    kills = 0
    attempts = 0
    while kills < RANDOM_KILLS and attempts < RANDOM_KILLS * 3:
        attempts += 1
        process = broker(config)
        kills += kill_after(process, rng.uniform(0.9, 2.6))
    assert kills >= RANDOM_KILLS, f"only {kills} kills landed (seed {crash_seed})"

    finish(config)

    ledger = EffectLedger(str(tmp_path / "effects.db"))
    check_exactly_once(config, ledger)
    assert ledger.calls("charge") >= ledger.count("charge")


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_sigkill_at_each_step_boundary_loses_nothing_and_doubles_nothing(
    tmp_path, fbs_database_url, crash_seed, point
):
    config = write_config(tmp_path, fbs_database_url)
    crashes = 0
    for run in range(12):
        process = broker(
            config, FBS_CRASH_AT=f"{point}:0.3", FBS_CRASH_SEED=f"{crash_seed}-{point}-{run}"
        )
        _, stderr = process.communicate(timeout=300)
        if process.returncode == 137:
            crashes += 1
            time.sleep(1.1)
        else:
            assert process.returncode == 0, stderr.decode()
        if crashes >= 3:
            break
    assert crashes >= 1, f"the crash point {point} was never reached (seed {crash_seed})"

    finish(config)

    check_exactly_once(config, EffectLedger(str(tmp_path / "effects.db")))
