"""Order → charge and order → purchase order through a running ``fbs run``, beside the bare chain.

Starts the demo's imitations on 127.0.0.1 (the WooCommerce store, Stripe and three
warehouses), writes a config whose polls are five minutes apart (so only webhooks move
an order quickly) with the webhook server on, and starts a real ``fbs run``. Then, one a
second, it places an order on the store and sends the store's signed ``order.created``
webhook to fbs, and notes when the charge reaches Stripe and the purchase order reaches
a warehouse (sampled every 2 ms at the imitations). It prints p50/p95/max of both.

In the same run it makes the same chain of HTTP calls directly through the same plugins,
with no engine and no database: read the order from the store, ask every warehouse for
offers, charge the card, place the purchase order. That is the bound.

Aim (issue "Operators' scale"): order → purchase order p95 within 0.25 s on loopback.
Warehouse shipment notification → tracking on the store is not measured: warehouses
cannot push shipments to fbs yet.

    uv run python benchmarks/latency.py [--orders 30]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from fbs_core.config import load_settings
from fbs_core.domain import Money
from fbs_core.domain.payments import ChargeBreakdown, ChargeRequest
from fbs_core.domain.purchasing import PurchaseOrderLine, PurchaseOrderRequest
from fbs_core.plugins import build_runtime, make_plugin_manager
from fbs_sandbox.demo import CHANNEL, DemoSettings, Sandbox, write_config
from fbs_sandbox.demo_data import plan_orders

WEBHOOK_SECRET = "latency-webhook-secret"
PLUGINS = "fbs-channel-woocommerce,fbs-payment-stripe,fbs-supplier-http"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def configure(folder: Path, sandbox: Sandbox, port: int) -> Path:
    """The demo's config with polls five minutes apart and signed webhooks on ``port``."""
    path = write_config(folder, sandbox, DemoSettings(poll_interval=300, tick_seconds=1.0))
    text = path.read_text()
    text = text.replace(
        f"[channels.{CHANNEL}.options]\n",
        f'[channels.{CHANNEL}.options]\nwebhook_secret = "{WEBHOOK_SECRET}"\n',
    )
    text = re.sub(
        r"\[scheduler\]\n", f"[server]\nenabled = true\nport = {port}\n\n[scheduler]\n", text
    )
    path.write_text(text)
    return path


def effects(sandbox: Sandbox) -> tuple[int, int]:
    return sandbox.stripe.charges, sum(w.purchase_orders for w in sandbox.warehouses.values())


def wait_for(
    sandbox: Sandbox, before: tuple[int, int], started: float, limit: float = 30.0
) -> tuple[float, float]:
    """Seconds from ``started`` until one more charge and one more purchase order are seen."""
    charge = po = None
    while charge is None or po is None:
        now = time.perf_counter()
        if now - started > limit:
            raise SystemExit("an order did not reach Stripe and a warehouse in time")
        charges, pos = effects(sandbox)
        if charge is None and charges > before[0]:
            charge = now - started
        if po is None and pos > before[1]:
            po = now - started
        time.sleep(0.002)
    return charge, po


def through_fbs(
    sandbox: Sandbox, config: Path, port: int, planned: list
) -> tuple[list[float], list[float]]:
    env = {**os.environ, "FBS_LOAD_PLUGINS": PLUGINS}
    process = subprocess.Popen(
        [sys.executable, "-m", "fbs_core", "--config", str(config), "run"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        cwd=config.parent,
    )
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("fbs running"):
            break
    else:
        raise SystemExit("fbs run did not start")
    threading.Thread(target=process.stderr.read, daemon=True).start()
    store = sandbox.stores[CHANNEL].store  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}/webhooks/{CHANNEL}"
    time.sleep(2)  # the first tick's polls are done
    to_charge, to_po = [], []
    try:
        for order in planned:
            before = effects(sandbox)
            started = time.perf_counter()
            order_id = int(sandbox.stores[CHANNEL].place_order(order))
            store.send_webhook(url, topic="order.created", order_id=order_id, secret=WEBHOOK_SECRET)
            charge, po = wait_for(sandbox, before, started)
            to_charge.append(charge)
            to_po.append(po)
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - started)))
    finally:
        process.terminate()
        process.wait(timeout=60)
    return to_charge, to_po


def bare_chain(sandbox: Sandbox, config: Path, planned: list) -> tuple[list[float], list[float]]:
    """The same calls made directly through the plugins: read, offers, charge, place."""
    settings = load_settings(config)
    runtime = build_runtime(settings, make_plugin_manager())
    channel = runtime.channels[CHANNEL]
    gateway = next(iter(runtime.payments.values()))
    cursor = channel.fetch_orders(None).cursor
    to_charge, to_po = [], []
    for n, order in enumerate(planned):
        started = time.perf_counter()
        sandbox.stores[CHANNEL].place_order(order)
        batch = channel.fetch_orders(cursor)
        cursor = batch.cursor
        incoming = batch.orders[-1]
        skus = [line.sku for line in incoming.lines]
        offers = {name: s.offers(skus) for name, s in runtime.suppliers.items()}
        name, chosen = next(
            (
                (name, found)
                for name, found in offers.items()
                if {o.sku for o in found} >= set(skus)
            ),
            next(iter(offers.items())),
        )
        cost = {o.sku: o for o in chosen}
        parts = sum((line.unit_price.cents * line.quantity for line in incoming.lines), 0)
        gateway.charge(
            ChargeRequest(
                idempotency_key=f"bare-charge-{n}-{time.time_ns()}",
                order_id=n,
                order_reference=f"bare-{n}",
                amount=Money(cents=parts),
                breakdown=ChargeBreakdown(
                    parts=Money(cents=parts),
                    core_charges=Money(cents=0),
                    shipping=Money(cents=0),
                    tax=Money(cents=0),
                ),
            )
        )
        to_charge.append(time.perf_counter() - started)
        runtime.suppliers[name].place_order(
            PurchaseOrderRequest(
                po_number=f"bare-{n}-{time.time_ns()}",
                supplier=name,
                ship_to=incoming.ship_to,
                lines=tuple(
                    PurchaseOrderLine(
                        sku=line.sku,
                        quantity=line.quantity,
                        unit_cost=cost[line.sku].unit_cost
                        if line.sku in cost
                        else Money(cents=100),
                        core_charge=cost[line.sku].core_charge
                        if line.sku in cost
                        else Money(cents=0),
                    )
                    for line in incoming.lines
                ),
                order_reference=f"bare-{n}",
            )
        )
        to_po.append(time.perf_counter() - started)
    runtime.close()
    return to_charge, to_po


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):.3f} s  p95 {p95:.3f} s  max {ordered[-1]:.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=30)
    args = parser.parse_args()
    planned = [
        order for order in plan_orders(args.orders * 3, seed=11) if order.expect == "completed"
    ]
    planned = planned[: args.orders]
    sandbox = Sandbox.start(ship_delay_seconds=3600)
    try:
        with tempfile.TemporaryDirectory() as folder:
            port = free_port()
            config = configure(Path(folder), sandbox, port)
            fbs_charge, fbs_po = through_fbs(sandbox, config, port, planned)
            bare_charge, bare_po = bare_chain(sandbox, config, planned)
    finally:
        sandbox.stop()
    print(f"{len(planned)} orders, one a second, signed webhooks into fbs run (polls 300 s apart)")
    print(f"order -> charge          fbs: {describe(fbs_charge)}")
    print(f"                  bare chain: {describe(bare_charge)}")
    print(f"order -> purchase order  fbs: {describe(fbs_po)}  (aim: p95 within 0.25 s)")
    print(f"                  bare chain: {describe(bare_po)}")
    print("shipment notification -> tracking: not measured (warehouses cannot push shipments yet)")


if __name__ == "__main__":
    main()
