"""Start-up time of ``fbs`` commands, next to bare Python measured in the same run.

Each command runs in a fresh interpreter (``python -m fbs_core ...``) in a temporary folder
holding a small config and an upgraded SQLite database, several times; the median
wall-clock time is printed beside the median of ``python -c pass``. The difference is what
fbs costs before it does any work: imports, reading the config, opening the database. The
CPU seconds (user + system) of the same runs are printed too: on a busy machine they
move less than wall-clock time.

Python caches compiled modules in ``__pycache__``; with ``PYTHONDONTWRITEBYTECODE`` set and
no cache yet, every run compiles every imported module from source, which costs more than
the imports themselves. The script says when that is the case; the times a merchant sees
are those with the cache (run once without the variable to fill it).

Aims: ``fbs --help`` within 0.3 s of bare Python, ``fbs orders list`` within 1 s.

Run: ``uv run python benchmarks/cli_startup.py [--repeat 5]``
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = """
[plugins]
modules = ["fbs_core.testing.fakes"]

[channels.shop]
type = "fake-channel"

[suppliers.east]
type = "fake-supplier"

[payments.card]
type = "fake-payment"
"""

OVER_BARE = "over bare"
IN_ALL = "in all"

COMMANDS: list[tuple[str, list[str], tuple[str, float] | None]] = [
    ("fbs --help", ["--help"], (OVER_BARE, 0.3)),
    ("fbs --version", ["--version"], (OVER_BARE, 0.3)),
    ("fbs orders --help", ["orders", "--help"], None),
    ("fbs orders list", ["orders", "list"], (IN_ALL, 1.0)),
    ("fbs orders show 1", ["orders", "show", "1"], None),
    ("fbs db upgrade", ["db", "upgrade"], None),
    ("fbs plugins", ["plugins"], None),
    ("fbs check", ["check"], None),
]
"""(label, arguments, aim: seconds over bare Python or in all; None for no aim)."""


def median_seconds(argv: list[str], folder: Path, repeat: int) -> tuple[float, float]:
    """Median (wall-clock, CPU) seconds of running ``argv`` ``repeat`` times in ``folder``."""
    env = {**os.environ, "FBS_LOAD_PLUGINS": ""}
    env.pop("FBS_CONFIG", None)
    env.pop("FBS_DATABASE_URL", None)
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, cwd=folder, env=env, capture_output=True, check=False)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (median)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "fbs.toml").write_text(CONFIG, encoding="utf-8")
        subprocess.run(
            [sys.executable, "-m", "fbs_core", "db", "upgrade"],
            cwd=folder,
            capture_output=True,
            check=True,
        )
        bare, bare_cpu = median_seconds([sys.executable, "-c", "pass"], folder, args.repeat)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            print("PYTHONDONTWRITEBYTECODE is set: modules without a cached .pyc compile every run")
        print(f"{'command':<22}{'seconds':>9}{'over bare':>11}{'cpu s':>8}  aim")
        print(f"{'python -c pass':<22}{bare:>9.3f}{0:>11.3f}{bare_cpu:>8.3f}")
        for label, arguments, aim in COMMANDS:
            took, cpu = median_seconds(
                [sys.executable, "-m", "fbs_core", *arguments], folder, args.repeat
            )
            over = took - bare
            verdict = ""
            if aim is not None:
                how, seconds = aim
                measured = over if how == OVER_BARE else took
                verdict = f"{'within' if measured <= seconds else 'OVER'} {seconds:.1f} s {how}"
            print(f"{label:<22}{took:>9.3f}{over:>11.3f}{cpu:>8.3f}  {verdict}".rstrip())


if __name__ == "__main__":
    main()
