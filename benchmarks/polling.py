"""Polling many stores from one ``fbs run --config-dir`` process, next to what is scheduled.

Serves one WooCommerce imitation on 127.0.0.1 under a path per store
(``/s<n>/wp-json/...``, so each is a store of its own), writes ``--merchants`` merchant
files sharing ``--stores`` WooCommerce channels, each polled every ``--interval``
seconds, and starts a real ``fbs run --config-dir`` process on a fresh SQLite database.
It watches for ``--seconds`` and prints, in the same run:

* start-up: seconds until the process says it is running, then until every store has
  been polled once (every instance is due at start);
* polls achieved per second (counted at the imitation) against the rate scheduled
  (stores / interval), and the worst wait past due of a store's second poll;
* the fbs process's CPU share of one core and its largest resident memory.

Aims (issue "Operators' scale"): 10,000 stores on one process at 10 % of a core or less,
300 MB or less, every store polled on time.

    uv run python benchmarks/polling.py [--stores 1000] [--merchants 10] [--interval 300]
        [--seconds 360] [--workers 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from fbs_sandbox.serving import serve
from fbs_sandbox.woocommerce import WooCommerceImitation

KEY = "ck_bench0123456789"
SECRET = "cs_bench0123456789"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class PollCounter:
    """ASGI app: records when each store's order list was asked for, then serves it."""

    def __init__(self, store: WooCommerceImitation) -> None:
        self.store = store
        self.polls: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        prefix, _, rest = scope["path"].lstrip("/").partition("/")
        if rest == "wp-json/wc/v3/orders" and scope["method"] == "GET":
            with self._lock:
                self.polls[prefix].append(time.monotonic())
        root = f"{scope.get('root_path', '')}/{prefix}"
        await self.store.app({**scope, "root_path": root}, receive, send)


def merchant_file(
    url: str, database: Path, first: int, count: int, interval: int, workers: int
) -> str:
    channels = "".join(
        f"""
[channels.s{n}]
type = "woocommerce"
poll_interval = {interval}
[channels.s{n}.options]
url = "{url}/s{n}"
consumer_key = "{KEY}"
consumer_secret = "{SECRET}"
"""
        for n in range(first, first + count)
    )
    return f'database_url = "sqlite:///{database}"\n[scheduler]\nworkers = {workers}\n{channels}'


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--merchants", type=int, default=10)
    parser.add_argument("--interval", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=None, help="default: interval * 1.2")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    seconds = args.seconds or args.interval * 1.2
    store = WooCommerceImitation(KEY, SECRET)
    counter = PollCounter(store)
    server = serve(counter)
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        merchants = base / "merchants"
        merchants.mkdir()
        per = -(-args.stores // args.merchants)
        for m in range(args.merchants):
            first = m * per
            count = max(0, min(per, args.stores - first))
            if count:
                (merchants / f"m{m:03d}.toml").write_text(
                    merchant_file(
                        server.url, base / "fbs.db", first, count, args.interval, args.workers
                    )
                )
        env = {**os.environ, "FBS_LOAD_PLUGINS": "fbs-channel-woocommerce"}
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "fbs_core", "run", "--config-dir", str(merchants)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        running_at = None
        for line in process.stderr:
            if line.startswith("fbs running"):
                running_at = time.monotonic()
                break
        if running_at is None:
            raise SystemExit("fbs run did not start")
        drain = threading.Thread(target=process.stderr.read, daemon=True)
        drain.start()
        cpu_start, peak_rss = cpu_seconds(process.pid), 0.0
        all_polled_at = None
        while time.monotonic() - running_at < seconds:
            time.sleep(0.5)
            peak_rss = max(peak_rss, rss_mb(process.pid))
            if all_polled_at is None and len(counter.polls) >= args.stores:
                all_polled_at = time.monotonic()
        window = time.monotonic() - running_at
        cpu = cpu_seconds(process.pid) - cpu_start
        process.terminate()
        process.wait(timeout=120)
    server.stop()
    polls = sum(len(times) for times in counter.polls.values())
    late = [
        times[1] - times[0] - args.interval for times in counter.polls.values() if len(times) > 1
    ]
    print(
        f"{args.stores} stores over {args.merchants} merchants, every {args.interval} s, "
        f"{args.workers} workers, watched {window:.0f} s"
    )
    print(f"start-up: running after {running_at - started:.1f} s", end="")
    if all_polled_at is not None:
        print(f"; every store polled once after {all_polled_at - running_at:.1f} s more")
    else:
        print(f"; only {len(counter.polls)} stores polled at all")
    print(
        f"polls: {polls} in {window:.0f} s = {polls / window:.1f}/s achieved; "
        f"scheduled {args.stores / args.interval:.1f}/s steady, plus {args.stores} due at start"
    )
    if late:
        print(
            f"second polls: {len(late)} of {args.stores} stores, worst wait past due "
            f"{max(late):.1f} s (aim: every store on time)"
        )
    else:
        print("second polls: none yet (watch longer than the interval to see them)")
    print(
        f"fbs process: {cpu / window:.1%} of a core (aim: 10% or less), "
        f"largest RSS {peak_rss:.0f} MB (aim: 300 MB or less)"
    )


if __name__ == "__main__":
    main()
