"""Take the README's console screenshots (1280×800) from ``fbs demo --console``.

Runs the demo (real plugins against the sandbox), signs in with Debian's chromium, sends
one held order and waits for it to complete, then saves ``console-overview.png``,
``console-order.png`` and ``console-held.png`` next to this file::

    uv run python docs/console_screenshots.py
"""

from __future__ import annotations

import queue
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from fbs_core.console.console_testing import chromium_path
from fbs_sandbox.demo import ConsoleAccess, DemoSettings, run_demo

HERE = Path(__file__).parent
VIEWPORT = {"width": 1280, "height": 800}


def main() -> None:
    """Run the demo, drive the console, save the three screenshots."""
    ready: queue.Queue[ConsoleAccess] = queue.Queue()
    stop = threading.Event()
    folder = Path(tempfile.mkdtemp(prefix="fbs-console-shots-")) / "demo"
    demo = threading.Thread(
        target=run_demo,
        args=(DemoSettings(orders=25, folder=folder, ship_delay_seconds=0.5),),
        kwargs={"keep_console": lambda _report, access: ready.put(access), "stop": stop},
        daemon=True,
    )
    demo.start()
    access = ready.get(timeout=180)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path())
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{access.url}/sign-in")
            page.get_by_label("User name").fill(access.username)
            page.get_by_label("Password").fill(access.password)
            page.get_by_role("button", name="Sign in").click()
            page.goto(f"{access.url}/held")
            page.locator("form.held-group tbody tr a").first.click()
            page.get_by_role("link", name="Send").click()
            page.get_by_role("button", name="Yes, send").click()
            deadline = time.monotonic() + 60
            while "completed" not in page.get_by_role("heading", level=1).inner_text():
                if time.monotonic() > deadline:
                    raise SystemExit("the sent order did not complete within a minute")
                time.sleep(0.5)
                page.reload()
            order_url = page.url
            page.goto(f"{access.url}/")
            page.screenshot(path=str(HERE / "console-overview.png"))
            page.goto(order_url)
            page.screenshot(path=str(HERE / "console-order.png"))
            page.goto(f"{access.url}/held")
            page.screenshot(path=str(HERE / "console-held.png"))
            browser.close()
    finally:
        stop.set()
        demo.join(timeout=30)


if __name__ == "__main__":
    main()
