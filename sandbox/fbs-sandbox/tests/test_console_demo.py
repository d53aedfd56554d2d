"""``fbs demo --console``: the console in a browser over the real plugins and the sandbox.

The demo runs the WooCommerce, Stripe and http plugins against their imitations, then
keeps them running under the console with orders held for approval. Specified here:
* Clicking Send on a held order takes it to completed, and the imitations saw exactly
  one charge, one purchase order and one tracking push for it.
* Clicking Cancel on an ordered order says beforehand what will be refunded and which
  warehouse is asked to cancel which purchase order; then the Stripe imitation shows the
  refund and the warehouse imitation the cancellation.

A failing test leaves a screenshot of the page (``$FBS_CONSOLE_SCREENSHOTS`` or the
test's temporary folder).
"""

from __future__ import annotations

import os
import queue
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from fbs_core.console.console_testing import chromium_path
from fbs_sandbox.demo import ConsoleAccess, DemoSettings, run_demo

DEADLINE_SECONDS = 60


@pytest.fixture
def demo(tmp_path, fbs_database_url, monkeypatch) -> Iterator[ConsoleAccess]:
    monkeypatch.delenv("FBS_DATABASE_URL", raising=False)
    ready: queue.Queue[ConsoleAccess] = queue.Queue()
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            run_demo(
                DemoSettings(
                    orders=4,
                    folder=tmp_path / "demo",
                    ship_delay_seconds=0.2,
                    database_url=fbs_database_url,
                ),
                keep_console=lambda _report, access: ready.put(access),
                stop=stop,
            )
        except BaseException as exc:  # handed to the test below
            failure.append(exc)
            raise

    thread = threading.Thread(target=run, name="fbs-demo-console", daemon=True)
    thread.start()
    try:
        access = ready.get(timeout=DEADLINE_SECONDS)
    except queue.Empty:
        stop.set()
        raise AssertionError(f"the demo's console did not start: {failure}") from None
    yield access
    stop.set()
    thread.join(timeout=30)


@pytest.fixture
def page(request, tmp_path) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        failed_before = request.session.testsfailed
        yield page
        if request.session.testsfailed > failed_before:
            folder = Path(os.environ.get("FBS_CONSOLE_SCREENSHOTS") or tmp_path)
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{request.node.name}.png"), full_page=True)
        browser.close()


def sign_in(page: Page, access: ConsoleAccess) -> None:
    page.goto(f"{access.url}/sign-in")
    page.get_by_label("User name").fill(access.username)
    page.get_by_label("Password").fill(access.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()


def open_first_held(page: Page, access: ConsoleAccess) -> None:
    page.goto(f"{access.url}/held")
    group = page.locator("form.held-group", has=page.get_by_role("heading", name="manual_review"))
    group.locator("tbody tr a").first.click()


def wait_for_status(page: Page, status: str) -> None:
    """Reload until the order's heading shows ``status`` (the pipeline runs meanwhile)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while status not in page.get_by_role("heading", level=1).inner_text():
        assert time.monotonic() < deadline, f"the order never became {status}"
        time.sleep(0.3)
        page.reload()


def test_send_on_a_held_order_completes_it_with_one_charge_po_and_tracking_push(demo, page):
    seen = demo.sandbox.counts()
    sign_in(page, demo)
    open_first_held(page, demo)
    page.get_by_role("link", name="Send").click()
    expect(page.locator(".sentence")).to_contain_text("fbs will")
    page.get_by_role("button", name="Yes, send").click()

    wait_for_status(page, "completed")

    after = demo.sandbox.counts()
    assert after["charges"] == seen["charges"] + 1
    assert after["purchase_orders"] == seen["purchase_orders"] + 1
    assert after["tracking_pushes"] == seen["tracking_pushes"] + 1
    assert after["duplicate_effects"] == 0
    expect(page.locator(".timeline")).to_contain_text(f"by {demo.username} (console)")


def test_cancel_on_an_ordered_order_refunds_at_stripe_and_cancels_the_po(demo, page):
    for warehouse in demo.sandbox.warehouses.values():
        warehouse.ship_delay_seconds = 3600  # what is bought now stays unshipped
    sign_in(page, demo)
    open_first_held(page, demo)
    page.get_by_role("link", name="Send").click()
    page.get_by_role("button", name="Yes, send").click()
    wait_for_status(page, "ordered")
    po_number = page.locator(
        "h2:has-text('Purchase orders') + table tbody tr td"
    ).first.inner_text()
    refunds = demo.sandbox.stripe.refunds
    cancellations = sum(w.cancellations for w in demo.sandbox.warehouses.values())

    page.get_by_role("link", name="Cancel").click()
    sentence = page.locator(".sentence")
    expect(sentence).to_contain_text(re.compile(r"refund \d+\.\d\d USD to the card"))
    expect(sentence).to_contain_text(f"warehouse to cancel PO {po_number}")
    page.get_by_role("button", name="Yes, cancel").click()

    wait_for_status(page, "cancelled")
    assert demo.sandbox.stripe.refunds == refunds + 1
    assert sum(w.cancellations for w in demo.sandbox.warehouses.values()) == cancellations + 1
    expect(page.locator(".timeline")).to_contain_text(
        f"by {demo.username} (console) Cancelled in the console."
    )
