"""Where the console is served, and how its cookie is set.

Specified here:
* ``fbs console`` serves the console on the ``[console]`` address (or ``--port``) until
  SIGTERM; ``fbs run`` serves it too when ``[console] enabled = true``, and says where.
* The instances page lists every instance with its type but never its options: an
  option's value (as a secret would be) appears in no page.
* Each instance shows its rate-limit use in the serving process (or that it declares
  no limits).
* The session cookie is HttpOnly and SameSite=Lax, and Secure when the console's public
  address is https.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from fbs_core.config import load_settings
from fbs_core.console.console_app import create_console_app
from fbs_core.console.console_serve import console_config, rate_limit_use
from fbs_core.console.console_testing import PASSWORD, add_test_user
from fbs_core.console.console_users import Role
from fbs_core.server import WebhookServer
from fbs_core.testing import fakes
from fbs_core.testing.harness import basic_config

SECRET = "sk_live_never_shown_0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(tmp_path: Path, url: str, port: int, enabled: bool = False) -> Path:
    config = tmp_path / "fbs.toml"
    config.write_text(
        f"""database_url = "{url}"
[plugins]
modules = ["fbs_core.testing.fakes"]
[console]
enabled = {"true" if enabled else "false"}
port = {port}
[channels.shop]
type = "fake-channel"
[channels.shop.options]
generate = 2
[suppliers.east]
type = "fake-supplier"
[suppliers.east.options]
generated_stock_seed = 1
[payments.card]
type = "fake-payment"
[payments.card.options]
ledger = "{SECRET}"
"""
    )
    return config


def wait_for(url: str, process: subprocess.Popen[bytes]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()[1].decode()
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the console never answered"
            time.sleep(0.2)


def sign_in(base: str, client: httpx.Client, username: str) -> None:
    page = client.get(f"{base}/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        f"{base}/sign-in",
        data={"csrf_token": token, "username": username, "password": PASSWORD, "next": "/"},
    )
    assert answer.status_code == 200 and "Overview" in answer.text


def run(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "fbs_core", *args],
        env={**os.environ, "FBS_LOAD_PLUGINS": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_fbs_run_serves_the_console_when_enabled_and_no_page_shows_a_secret(
    tmp_path, fbs_database_url, make_engine
):
    port = free_port()
    config = write_config(tmp_path, fbs_database_url, port, enabled=True)
    process = run("--config", str(config), "run")
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_for(f"{base}/sign-in", process).status_code == 200
        engine = make_engine()  # the same database, migrated by fbs run
        add_test_user(engine, "olive", Role.owner)
        with httpx.Client(follow_redirects=True) as client:
            sign_in(base, client, "olive")
            for path in ("/", "/orders", "/held", "/instances", "/users", "/orders.csv"):
                page = client.get(f"{base}{path}")
                assert page.status_code == 200, path
                assert SECRET not in page.text, path
            instances = client.get(f"{base}/instances").text
            assert "fake-supplier" in instances and "east" in instances
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert f"console on http://127.0.0.1:{port}" in stderr.decode()
    assert process.returncode == 0, stderr.decode()


def test_fbs_console_serves_on_its_own(tmp_path, fbs_database_url, make_engine):
    engine = make_engine()  # creates the schema, as fbs run would have
    add_test_user(engine, "olive", Role.viewer)
    port = free_port()
    config = write_config(tmp_path, fbs_database_url, 8760)
    process = run("--config", str(config), "console", "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        first = wait_for(f"{base}/", process)
        assert first.status_code == 303 and first.headers["location"].startswith("/sign-in")
        with httpx.Client(follow_redirects=True) as client:
            sign_in(base, client, "olive")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    assert f"fbs console on http://127.0.0.1:{port}" in stderr.decode()


def test_the_session_cookie_is_secure_behind_an_https_public_url(tmp_path, make_engine):
    engine = make_engine()
    add_test_user(engine, "olive")
    for public_url, secure in (("", False), ("https://orders.example.com", True)):
        config = tmp_path / f"fbs-{secure}.toml"
        config.write_text(f'[console]\npublic_url = "{public_url}"\n')
        settings = load_settings(config)
        app = create_console_app(engine.db, console_config(settings, engine.db, engine.runtime))
        with WebhookServer(app, "127.0.0.1", 0) as server:
            cookie = httpx.get(f"{server.url}/sign-in").headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert ("; secure" in cookie) is secure


def test_the_instances_show_their_rate_limit_use_in_this_process(make_engine):
    config = basic_config()
    config["channels"]["shop"]["options"].update({"requests_per_second": 50, "max_concurrency": 2})
    engine = make_engine(config)
    fakes.market("default").add(fakes.generated_order(0, seed=3))
    engine.run_until_idle()

    use = rate_limit_use(engine.runtime)

    assert use[("channel", "shop")].startswith("50/s, 0 of 2 in flight, waited ")
    assert use[("supplier", "east")] == "no declared limits"
