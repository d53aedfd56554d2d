"""The price-drift tolerance: how much more than expected fbs pays without asking."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..context import PipelineContext


def tolerance_cents(ctx: PipelineContext, base_cents: int) -> int:
    """The larger of the configured absolute and percentage price-drift tolerances."""
    rules = ctx.rules
    percent = int(base_cents * rules.price_drift_tolerance_percent / 100)
    return max(rules.price_drift_tolerance_cents, percent)
