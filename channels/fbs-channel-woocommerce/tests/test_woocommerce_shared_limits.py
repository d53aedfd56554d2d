"""Two fbs processes together stay within one store's declared limits (PostgreSQL).

Specified here, counted at the WooCommerce imitation:

* with ``requests_per_second`` declared, the requests two processes (three threads each)
  send to one store never go past the rate: in every window, no more than the burst
  plus the rate times the window (one request of slack for the time between a token
  being taken in the database and the request reaching the store);
* with ``max_concurrency = 1`` declared, the store never serves two of their requests
  at once, even when each request is slow.

On SQLite (one host, usually one process) the limits hold per process; these tests need
``FBS_TEST_DATABASE_URL`` pointing at PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fbs_core.db import Database
from fbs_core.db.migrate import upgrade

from .conftest import KEY, SECRET

postgres_only = pytest.mark.skipif(
    not os.environ.get("FBS_TEST_DATABASE_URL", "").startswith("postgres"),
    reason="needs PostgreSQL (set FBS_TEST_DATABASE_URL): limits are shared through it",
)

CALLER = """
import json, sys, threading
from fbs_core.config import Settings
from fbs_core.db import Database
from fbs_core.engine import Engine
from fbs_core.plugins import build_runtime, make_plugin_manager

database_url, options, calls, threads = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
settings = Settings.model_validate({
    "merchant_id": "limits", "database_url": database_url,
    "channels": {"shop": {"type": "woocommerce", "options": options}},
})
runtime = build_runtime(settings, make_plugin_manager())
engine = Engine(runtime, Database(database_url))  # shares the limits through the database
channel = runtime.channels["shop"]

def work():
    for _ in range(calls):
        channel.check()

workers = [threading.Thread(target=work) for _ in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
engine.stop()
"""


def run_two_processes(database_url: str, options: dict, calls: int, threads: int = 3) -> None:
    db = Database(database_url)
    upgrade(db)
    db.dispose()
    env = {**os.environ, "FBS_LOAD_PLUGINS": "fbs-channel-woocommerce"}
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CALLER,
                database_url,
                json.dumps(options),
                str(calls),
                str(threads),
            ],
            env=env,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for process in processes:
        _, err = process.communicate(timeout=240)
        assert process.returncode == 0, err.decode()


@postgres_only
def test_two_processes_never_exceed_the_stores_request_rate(store, server, fbs_database_url):
    rate, burst = 8.0, 2
    options = {
        "url": server.url,
        "consumer_key": KEY,
        "consumer_secret": SECRET,
        "requests_per_second": rate,
        "burst": burst,
    }
    run_two_processes(fbs_database_url, options, calls=6)
    times = store.request_times  # when the store received each request
    assert len(times) == 2 * 3 * 6
    for first in range(len(times)):
        for last in range(first, len(times)):
            window = times[last] - times[first]
            # no stretch of the store's log holds more requests than the bucket allows
            assert last - first + 1 <= burst + rate * window + 1, (first, last, window)


@postgres_only
def test_two_processes_never_exceed_the_stores_concurrency_cap(store, server, fbs_database_url):
    options = {
        "url": server.url,
        "consumer_key": KEY,
        "consumer_secret": SECRET,
        "max_concurrency": 1,
    }
    store.slow_next(0.1, times=24)
    run_two_processes(fbs_database_url, options, calls=4)
    assert len(store.request_times) == 2 * 3 * 4
    assert store.most_in_flight == 1
