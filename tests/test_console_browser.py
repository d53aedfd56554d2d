"""The merchant console in a real browser (Playwright driving Debian's chromium).

Specified here, each on a real database with the real pipeline (fake plugins):
* Signing in lands on the overview; signing out returns to the sign-in page and the
  pages are out of reach again.
* A wrong password is refused with a message; five in a row lock the account, even the
  right password is then refused, and an owner lifts the lock on the Users page.
* A viewer sees orders but no Send, Cancel or Retry, and a posted action is refused 403.
* Clicking Send on a held order shows what will happen, and the order then goes to
  completed with one charge, one purchase order and one tracking push; the timeline
  names the user who sent it.
* Search finds an order by its tracking number.
* The CSV export holds exactly what ``fbs orders list --json --all`` prints.
* A form posted without its CSRF token gets 403 and changes nothing.
* A user of merchant A gets 404 for every route that takes an id, for merchant B's
  ids, whatever the method; the routes are read from the app, not listed by hand.
* The overview counts today's orders by status and the held ones by reason, sums what
  buyers paid today and draws one bar per day for 30 days.
* The orders page shows 50 orders a page, newest first, with a link to older ones, and
  narrows to one status.
* The held queue takes in what changed elsewhere without a reload.
* Pages carry a Content-Security-Policy without inline scripts and deny framing.

A failing test leaves a screenshot of the page (in ``$FBS_CONSOLE_SCREENSHOTS`` or the
test's temporary folder).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page, expect, sync_playwright
from starlette.routing import Route

from fbs_core.cli import main
from fbs_core.console.console_app import CSV_FIELDS
from fbs_core.console.console_testing import (
    PASSWORD,
    add_test_user,
    chromium_path,
    engine_console,
    serve_console,
)
from fbs_core.console.console_users import LOCKOUT_AFTER, Role
from fbs_core.db import repository as repo
from fbs_core.pipeline import actions
from fbs_core.server import WebhookServer
from fbs_core.testing import fakes
from fbs_core.testing.harness import basic_config

HELD_ABOVE_CENTS = 1000
"""Every generated order is worth more than this, so each is held for approval."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    failed_before = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed_before:
        folder = Path(os.environ.get("FBS_CONSOLE_SCREENSHOTS") or tmp_path)
        folder.mkdir(parents=True, exist_ok=True)
        shot = folder / f"{request.node.name}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failing page: {shot}")
    context.close()


@pytest.fixture
def engine(make_engine):
    engine = make_engine(hold_above_cents=HELD_ABOVE_CENTS)
    for index in range(3):
        fakes.market("default").add(fakes.generated_order(index, seed=7))
    engine.run_until_idle()
    return engine


@pytest.fixture
def console(engine) -> Iterator[WebhookServer]:
    server = serve_console(engine)
    yield server
    server.stop()


def sign_in(page: Page, base: str | None, username: str, password: str = PASSWORD) -> None:
    """Sign in on the sign-in page (``base`` None: the page the browser is on)."""
    if base is not None:
        page.goto(f"{base}/sign-in")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def csrf(page: Page) -> str:
    return page.locator("input[name=csrf_token]").first.input_value()


def order_status(engine, order_id: int) -> str:
    with engine.db.transaction() as session:
        return repo.get_order(session, engine.ctx.merchant_id, order_id).status


def test_sign_in_and_out(engine, console, page):
    add_test_user(engine, "alice")
    page.goto(f"{console.url}/orders")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=%2Forders$"))
    sign_in(page, None, "alice")
    expect(page).to_have_url(f"{console.url}/orders")
    expect(page.get_by_text("alice · owner · default")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{console.url}/sign-in")
    page.goto(f"{console.url}/")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_a_wrong_password_then_the_lockout_an_owner_lifts(engine, console, page, browser):
    add_test_user(engine, "olive", Role.owner)
    add_test_user(engine, "sam", Role.staff)
    sign_in(page, console.url, "sam", "not the password")
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    for _ in range(LOCKOUT_AFTER - 1):
        sign_in(page, console.url, "sam", "still not it")
    expect(page.get_by_role("alert")).to_contain_text("locked after too many wrong passwords")
    sign_in(page, console.url, "sam")
    expect(page.get_by_role("alert")).to_contain_text("locked")

    owner = browser.new_page()
    try:
        sign_in(owner, console.url, "olive")
        owner.goto(f"{console.url}/users")
        expect(owner.get_by_role("row", name=re.compile("sam"))).to_contain_text("locked out")
        owner.get_by_role("button", name="Unlock sam").click()
        expect(owner.get_by_role("status")).to_have_text("sam may sign in again")
    finally:
        owner.close()
    sign_in(page, console.url, "sam")
    expect(page).to_have_url(f"{console.url}/")


def test_a_viewer_reads_but_cannot_act(engine, console, page):
    add_test_user(engine, "vera", Role.viewer)
    sign_in(page, console.url, "vera")
    page.goto(f"{console.url}/orders/1")
    expect(page.get_by_role("heading", level=1)).to_contain_text("#1000")
    expect(page.get_by_role("link", name="Send")).to_have_count(0)
    expect(page.get_by_role("link", name="Cancel")).to_have_count(0)
    page.goto(f"{console.url}/held")
    expect(page.get_by_role("button", name="Send selected")).to_have_count(0)
    answer = page.request.post(
        f"{console.url}/orders/1/send", form={"csrf_token": csrf(page)}, max_redirects=0
    )
    assert answer.status == 403
    assert order_status(engine, 1) == "held"


def test_send_on_a_held_order_takes_it_to_completed_with_each_effect_once(
    engine, console, page, ledger
):
    add_test_user(engine, "alice", Role.staff)
    sign_in(page, console.url, "alice")
    page.goto(f"{console.url}/held")
    expect(page.get_by_role("heading", name=re.compile("above_threshold"))).to_be_visible()
    page.get_by_role("link", name="#1001").click()
    page.get_by_role("link", name="Send").click()
    expect(page.locator(".sentence")).to_contain_text(
        "Send order #1001 on although it was held (The parts are worth"
    )
    page.get_by_role("button", name="Yes, send").click()
    expect(page.get_by_role("status")).to_contain_text("send: approved; sourcing now")

    engine.run_until_idle()

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("completed")
    expect(page.locator(".timeline")).to_contain_text("by alice (console)")
    assert ledger.count("charge") == 1
    assert ledger.count("purchase_order") == 1
    assert ledger.count("tracking") == 1
    assert order_status(engine, 1) == "held"  # the others stay where they were


def test_search_finds_an_order_by_its_tracking_number(engine, console, page):
    add_test_user(engine, "alice")
    sign_in(page, console.url, "alice")
    page.goto(f"{console.url}/held")
    page.get_by_role("checkbox", name="Select all above_threshold").check()
    page.get_by_role("button", name="Send selected").click()
    expect(page.locator(".sentences li")).to_have_count(3)
    page.get_by_role("button", name="Yes, send 3 order(s)").click()
    expect(page.get_by_role("status")).to_have_text("send: 3 order(s) done")
    engine.run_until_idle()
    with engine.db.transaction() as session:
        tracking = repo.order_detail(session, "default", 2).shipments[0].tracking_number

    page.goto(f"{console.url}/orders")
    page.get_by_label("Search").fill(tracking)
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table.orders tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("#1001")


def test_the_csv_export_equals_fbs_orders_list_json(engine, console, page, tmp_path, monkeypatch):
    add_test_user(engine, "alice")
    sign_in(page, console.url, "alice")
    page.goto(f"{console.url}/orders")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))

    config = tmp_path / "fbs.toml"
    config.write_text(f'database_url = "{engine.db.url}"\n')
    monkeypatch.delenv("FBS_DATABASE_URL", raising=False)
    listed = CliRunner().invoke(
        main, ["--config", str(config), "orders", "list", "--json", "--all"]
    )
    assert listed.exit_code == 0, listed.output
    expected = [
        {key: "" if value is None else str(value) for key, value in order.items()}
        for order in json.loads(listed.output)
    ]
    assert list(exported[0]) == CSV_FIELDS
    assert exported == expected
    assert len(exported) == 3


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(engine, console, page):
    add_test_user(engine, "alice")
    sign_in(page, console.url, "alice")
    page.goto(f"{console.url}/orders/1")
    for form in ({}, {"csrf_token": "forged"}):
        answer = page.request.post(f"{console.url}/orders/1/cancel", form=form, max_redirects=0)
        assert answer.status == 403
        assert "did not come from the console" in answer.text()
    assert order_status(engine, 1) == "held"
    with engine.db.transaction() as session:
        assert [e.event for e in repo.order_detail(session, "default", 1).timeline][-1] != (
            "cancelled"
        )


def test_merchant_a_gets_404_for_every_route_with_merchant_b_ids(
    engine, console, page, make_engine
):
    other = make_engine(
        {
            **basic_config(market="other", ledger="other", hold_above_cents=HELD_ABOVE_CENTS),
            "merchant_id": "other",
        }
    )
    fakes.market("other").add(fakes.generated_order(50, seed=9))
    other.run_until_idle()
    b_user = add_test_user(other, "bianca", Role.owner)
    with other.db.transaction() as session:
        (b_order,) = repo.list_orders(session, "other")
    add_test_user(engine, "alice", Role.owner)
    sign_in(page, console.url, "alice")
    page.goto(f"{console.url}/")
    token = csrf(page)
    ids = {"order_id": b_order.id, "user_id": b_user.id}
    actions = {"action": ["send", "cancel", "retry"]}

    app = engine_console(engine)
    checked = []
    for route in app.routes:
        if not isinstance(route, Route) or not route.param_convertors:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            for action in actions["action"] if "action" in route.param_convertors else [""]:
                values = {name: ids.get(name, action) for name in route.param_convertors}
                path = route.url_path_for(route.name, **values)
                form = {"csrf_token": token, "ids": str(b_order.id)}
                answer = page.request.fetch(
                    f"{console.url}{path}",
                    method=method,
                    form=form if method == "POST" else None,
                    max_redirects=0,
                )
                checked.append((method, path, answer.status))
                assert answer.status == 404, (method, path, answer.status)
                assert b_order.number not in answer.text()
    assert {path for _, path, _ in checked} >= {
        f"/orders/{b_order.id}",
        f"/orders/{b_order.id}/send",
        f"/users/{b_user.id}/unlock",
        "/held/send",
        "/held/cancel",
    }
    page.goto(f"{console.url}/orders?{urlencode({'q': b_order.number})}")
    expect(page.locator("table.orders tbody tr")).to_have_text("No orders match.")
    with other.db.transaction() as session:
        assert repo.get_order(session, "other", b_order.id).status == "held"


def test_pages_forbid_inline_scripts_and_framing(engine, console, page):
    add_test_user(engine, "alice")
    answer = page.goto(f"{console.url}/sign-in")
    headers = answer.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    sign_in(page, console.url, "alice")
    cookie = next(c for c in page.context.cookies() if c["name"] == "fbs_console")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    for path in ("/", "/orders", "/orders/1", "/held", "/instances", "/users"):
        html = page.request.get(f"{console.url}{path}").text()
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path
        assert re.findall(r"<[^>]+\son[a-z]+=", html) == [], path  # no inline handlers


def test_the_overview_counts_orders_held_reasons_money_and_draws_thirty_days(engine, console, page):
    add_test_user(engine, "alice")
    sign_in(page, console.url, "alice")
    with engine.db.transaction() as session:
        paid = sum(o.buyer_paid.total.cents for o in repo.list_orders(session, "default"))
    today = page.locator(".card", has=page.get_by_role("heading", name="Today", exact=True))
    expect(today).to_contain_text("held 3")
    held = page.locator(".card", has=page.get_by_role("heading", name="Held", exact=True))
    expect(held).to_contain_text("above_threshold 3")
    money = page.locator(".card", has=page.get_by_role("heading", name="Money today"))
    expect(money).to_contain_text(f"Buyers paid {paid // 100}.{paid % 100:02d} USD")
    expect(money).to_contain_text("Charged 0.00 USD")
    chart = page.locator("svg.chart")
    expect(chart.locator("g")).to_have_count(30)
    expect(chart.locator("g").last.locator("title")).to_contain_text("3 in flight")
    expect(page.get_by_role("row", name=re.compile(r"^channel shop fake-channel"))).to_be_visible()


def test_orders_page_by_page_and_filtered_by_status(make_engine, page):
    engine = make_engine(hold_above_cents=30000)
    for index in range(60):
        fakes.market("default").add(fakes.generated_order(index, seed=11))
    engine.run_until_idle()
    add_test_user(engine, "alice")
    with engine.db.transaction() as session:
        held = repo.count_by_status(session, "default").get("held", 0)
    server = serve_console(engine)
    try:
        sign_in(page, server.url, "alice")
        page.goto(f"{server.url}/orders")
        rows = page.locator("table.orders tbody tr")
        expect(rows).to_have_count(50)
        expect(rows.first).to_contain_text("#1059")
        page.get_by_role("link", name="Older").click()
        expect(rows).to_have_count(10)
        expect(rows.last).to_contain_text("#1000")
        expect(page.get_by_role("link", name="Older")).to_have_count(0)

        page.goto(f"{server.url}/orders")
        page.get_by_label("Status").select_option("held")
        page.get_by_role("button", name="Show").click()
        expect(rows).to_have_count(held)
        for status in rows.locator(".status").all_inner_texts():
            assert status == "held"
        assert 0 < held < 60
    finally:
        server.stop()


def test_the_held_queue_updates_without_a_reload(engine, console, page):
    add_test_user(engine, "alice")
    sign_in(page, console.url, "alice")
    page.goto(f"{console.url}/held")
    rows = page.locator("form.held-group tbody tr")
    expect(rows).to_have_count(3)
    page.evaluate("window.__same_document = true")

    actions.approve_order(engine.ctx, 1, actor="someone else")

    expect(rows).to_have_count(2, timeout=15_000)
    assert page.evaluate("window.__same_document") is True  # swapped in, not reloaded
