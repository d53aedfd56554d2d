"""The Stripe gateway inside the real pipeline, against the Stripe imitation.

Stripe forgets idempotency keys after 24 hours. These tests lose a refund's answer,
let the imitation forget the key as Stripe does, move fbs's clock a day on, and check
that the refund fbs retries is found, not paid again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from fbs_core.db import repository as repo
from fbs_core.domain import OrderStatus
from fbs_core.engine import Engine
from fbs_core.errors import OutOfStock
from fbs_core.testing import fakes
from fbs_core.testing.harness import FAKES, basic_config, build_engine
from fbs_core.testing.ledger import forget_shared_ledgers
from fbs_payment_stripe.gateway import StripeGateway

API_KEY = "sk_test_fbs0123456789abcdef"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(fbs_database_url, stripe_server, clock) -> Iterator[Engine]:
    """One fake channel and two fake warehouses; the card is charged through Stripe."""
    fakes.reset()
    forget_shared_ledgers()
    config = basic_config(on_no_stock="cancel")
    config["payments"] = {
        "stripe": {
            "type": "stripe",
            "options": {
                "api_key": API_KEY,
                "customer": "cus_merchant",
                "payment_method": "pm_card_visa",
                "api_base": stripe_server.url,
                "timeout": 10,
            },
        }
    }
    built = build_engine(fbs_database_url, config, modules=(FAKES, "fbs_payment_stripe.plugin"))
    built.ctx.clock = clock
    built.ctx.scheduler = built.ctx.scheduler.model_copy(
        update={"backoff_base_seconds": 60, "backoff_max_seconds": 600}
    )
    yield built
    built.stop()
    built.db.dispose()
    fakes.reset()
    forget_shared_ledgers()


def lose_the_first_refund_answer(imitation, monkeypatch) -> None:
    """Stripe makes the first refund, then the connection drops before its answer."""
    real_refund = StripeGateway.refund
    calls = []

    def refund(self, request):
        if not calls:
            imitation.fail_next(503, after_effect=True)
        calls.append(request.idempotency_key)
        return real_refund(self, request)

    monkeypatch.setattr(StripeGateway, "refund", refund)


def test_a_refund_whose_answer_was_lost_is_found_a_day_later_not_paid_again(
    engine, imitation, clock, monkeypatch
):
    fakes.market("default").add(fakes.make_order("A1", [("OIL-FLT-5W30", 1)]))
    fakes.fail_next("east", OutOfStock("sold out"), method="place_order")
    fakes.fail_next("west", OutOfStock("sold out"), method="place_order")
    lose_the_first_refund_answer(imitation, monkeypatch)
    engine.run_until_idle()
    assert (imitation.charges, imitation.refunds) == (1, 1)  # refunded; fbs never heard

    imitation.forget_idempotency_keys()  # a day later, as Stripe does
    clock.now += timedelta(hours=30)
    engine.run_until_idle()

    with engine.db.transaction() as session:
        d = repo.order_detail(session, engine.ctx.merchant_id, 1)
    [refund] = imitation.refund_objects
    assert d.order.status is OrderStatus.cancelled
    assert [(r.status, r.reference) for r in d.refunds] == [("succeeded", refund["id"])]
    assert (imitation.refunds, imitation.duplicate_effects) == (1, 0)
    assert imitation.refunded_cents == imitation.charged_cents == d.charges[0].amount_cents
