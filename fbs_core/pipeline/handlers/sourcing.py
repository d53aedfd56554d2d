"""The ``source`` command: ask warehouses for offers and choose a plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...db import repository as repo
from ...db.models import SourcingPlanRow
from ...domain import Address, Money, NoPlan, Offer, Order, OrderStatus, SourcingPlan
from ...domain.po_lifecycle import PurchaseOrderEvent
from ...domain.rules import NoStockPolicy
from ...errors import AdapterError, FatalError, RetriableError
from .. import transitions as t
from ..cancellation import cancel_order
from ..command_payloads import SourcePayload
from ..money import enqueue_refund
from ..po_transitions import move_po
from ..progress import finish_cancellation_if_settled
from .base import Command, Handler, configured
from .charging import enqueue_charge
from .drift import tolerance_cents
from .purchasing import charged_for, create_purchase_orders

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ...db.models import OrderRow, OutboxCommandRow
    from ..context import PipelineContext


def shipping_estimator(ctx: PipelineContext):  # noqa: ANN201 - see hookspecs.ShippingEstimator
    """Return ``estimate(origin_zip, destination, weight_grams, currency) -> Money``."""

    def estimate(origin_zip: str, destination: Address, weight_grams: int, currency: str) -> Money:
        money = ctx.decide(
            "fbs_shipping_estimate",
            origin_zip=origin_zip,
            destination=destination,
            weight_grams=weight_grams,
            currency=currency,
        )
        if money is None:
            raise RetriableError("no plugin could estimate shipping", code="no_shipping_estimate")
        return money

    return estimate


@dataclass
class Gathered:
    """What the warehouses answered when asked for offers."""

    offers: list[Offer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """One sentence per warehouse that could not answer, naming it."""
    refusals: list[FatalError] = field(default_factory=list)
    """Warehouses that refused the question itself (retrying will not help)."""
    asked: int = 0


def gather_offers(ctx: PipelineContext, skus: list[str], exclude: set[str]) -> Gathered:
    """Ask every enabled warehouse except ``exclude``; a failing one is skipped and named.

    Each warehouse is asked only about the part numbers its API can carry
    (``Supplier.part_numbers``).
    """
    gathered = Gathered()
    for name, supplier in ctx.runtime.suppliers.items():
        if name in exclude:
            continue
        carried = [sku for sku in skus if supplier.part_numbers.problem(sku) is None]
        if not carried:
            continue
        gathered.asked += 1
        try:
            found = supplier.offers(carried)
        except AdapterError as exc:
            gathered.errors.append(f"{name}: {exc.message}")
            if isinstance(exc, FatalError):
                gathered.refusals.append(exc)
            continue
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop sourcing
            supplier.log.exception("offers() failed")
            gathered.errors.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        gathered.offers.extend(
            offer.model_copy(update={"supplier": name}) for offer in found if offer.sku in carried
        )
    return gathered


def unsupported_part_numbers(
    ctx: PipelineContext, skus: list[str], exclude: set[str]
) -> NoPlan | None:
    """A hold for part numbers no enabled warehouse's API can carry, else None.

    Found before any charge: such a part could never be put on a purchase order.
    """
    suppliers = {n: s for n, s in ctx.runtime.suppliers.items() if n not in exclude}
    if not suppliers:
        return None
    problems = {}
    for sku in skus:
        reasons = {name: s.part_numbers.problem(sku) for name, s in suppliers.items()}
        if all(reasons.values()):
            problems[sku] = "; ".join(f"{name}: it {why}" for name, why in reasons.items())
    if not problems:
        return None
    return NoPlan(
        reason="unsupported_part_number",
        message="No warehouse can order "
        + " and ".join(f"part number {sku!r} ({why})" for sku, why in problems.items())
        + ". Change the SKU on the channel (or enable a warehouse that carries it); "
        "nothing was charged.",
        skus=tuple(problems),
    )


def plan_for(ctx: PipelineContext, order: Order, exclude: set[str]) -> dict[str, Any]:
    """Choose a plan for ``order`` (or its remaining lines); JSON-able result.

    Warehouses that refuse the question as invalid are not asked again: when every
    warehouse asked refused it, the result is a hold with the first one's reason.
    """
    skus = sorted({line.sku for line in order.lines})
    unsupported = unsupported_part_numbers(ctx, skus, exclude)
    if unsupported is not None:
        return {"no_plan": unsupported.model_dump(mode="json"), "errors": []}
    gathered = gather_offers(ctx, skus, exclude)
    errors = gathered.errors
    if errors and len(errors) >= gathered.asked:
        if len(gathered.refusals) == gathered.asked:
            no_plan = NoPlan(
                reason=gathered.refusals[0].code,
                message="Every warehouse refused the stock request: " + "; ".join(errors),
            )
            return {"no_plan": no_plan.model_dump(mode="json"), "errors": []}
        raise RetriableError("no warehouse answered: " + "; ".join(errors))
    decision = ctx.decide(
        "fbs_sourcing_plan",
        order=order,
        offers=gathered.offers,
        rules=ctx.rules,
        estimate_shipping=shipping_estimator(ctx),
    )
    if isinstance(decision, NoPlan):
        return {"no_plan": decision.model_dump(mode="json"), "errors": errors}
    if not isinstance(decision, SourcingPlan):
        raise RetriableError("no plugin chose a sourcing plan", code="no_sourcing_plan")
    tax = ctx.decide("fbs_tax_estimate", order=order, plan=decision, rules=ctx.rules)
    plan = decision.model_copy(update={"tax": tax or Money.zero(decision.currency)})
    return {"plan": plan.model_dump(mode="json"), "errors": errors}


class SourceHandler(Handler):
    """Plan an approved order, or re-plan the lines of a purchase order a warehouse refused."""

    kind = "source"

    def execute(self, ctx: PipelineContext, command: Command) -> dict[str, Any]:  # noqa: D102
        with ctx.db.transaction() as session:
            row = repo.get_order(session, ctx.merchant_id, command.order_id or 0)
            if row is None or row.cancel_requested:
                return {"skip": True}
            # taken only by a process that has the channel, or when no process has it
            configured(ctx.runtime.channels, row.channel, "channel")
            order = repo.order_to_domain(row)
            po_number = SourcePayload.read(command.payload).resource_po
            if po_number:
                po = repo.purchase_order_by_number(session, ctx.merchant_id, po_number)
                wanted = {line.line_id: line.quantity for line in po.lines} if po else {}
                lines = tuple(
                    line.model_copy(update={"quantity": wanted[line.line_id]})
                    for line in order.lines
                    if line.line_id in wanted
                )
                order = order.model_copy(update={"lines": lines})
        return plan_for(ctx, order, set(SourcePayload.read(command.payload).exclude))

    def apply(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        result: dict[str, Any],
    ) -> None:
        if order is None or result.get("skip"):
            return
        if order.cancel_requested:
            finish_cancellation_if_settled(ctx, session, order)
            return
        if SourcePayload.read(command.payload).generation != order.source_generation:
            return  # a newer version of the order is being sourced
        for error in result.get("errors", []):
            t.record(
                ctx, session, order, "supplier_unavailable", f"Skipped while sourcing: {error}"
            )
        if SourcePayload.read(command.payload).resource_po:
            self._apply_resource(ctx, session, command, order, result)
            return
        if order.status != OrderStatus.approved:
            return
        if "no_plan" in result:
            no_plan = NoPlan.model_validate(result["no_plan"])
            if no_plan.reason == "no_stock" and ctx.rules.on_no_stock == NoStockPolicy.cancel:
                cancel_order(ctx, session, order, actor="system", reason=no_plan.message)
            else:
                t.hold(ctx, session, order, no_plan.reason, no_plan.message)
            return
        plan = SourcingPlan.model_validate(result["plan"])
        plan_row = store_plan(ctx, session, order, plan)
        t.set_status(
            ctx,
            session,
            order,
            OrderStatus.sourced,
            plan.explanation,
            data={"total_cents": plan.total.cents, "legs": len(plan.legs)},
        )
        drift = price_drift(ctx, repo.order_to_domain(order), plan)
        if drift:
            t.hold(ctx, session, order, "price_drift", drift)
            return
        enqueue_charge(ctx, session, order, plan_row)

    def on_give_up(  # noqa: D102
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow | None,
        error: str,
    ) -> None:
        po_number = SourcePayload.read(command.payload).resource_po
        old = repo.purchase_order_by_number(session, ctx.merchant_id, po_number or "")
        if order is None or old is None or OrderStatus(order.status).is_final:
            super().on_give_up(ctx, session, command, order, error)
            return
        t.hold(
            ctx,
            session,
            order,
            "upstream_unavailable",
            f"Looking for another warehouse for {po_number} kept failing after "
            f"{command.attempts} attempts ({error}). {charged_for(old)} charged for it stands: "
            "retry the order to look again, or cancel it to refund.",
        )

    def _apply_resource(
        self,
        ctx: PipelineContext,
        session: Session,
        command: OutboxCommandRow,
        order: OrderRow,
        result: dict[str, Any],
    ) -> None:
        po_number = SourcePayload.read(command.payload).resource_po
        old = repo.purchase_order_by_number(session, ctx.merchant_id, po_number)
        if old is None or old.status != "failed":
            return
        if "no_plan" in result:
            no_plan = NoPlan.model_validate(result["no_plan"])
            t.hold(
                ctx,
                session,
                order,
                no_plan.reason,
                f"{old.supplier} refused {po_number} and {no_plan.message} "
                f"{charged_for(old)} charged for it stands: approve to try again, or cancel "
                "the order to refund.",
            )
            return
        plan = SourcingPlan.model_validate(result["plan"])
        old_cost = sum(
            (line.unit_cost_cents + line.core_charge_cents) * line.quantity for line in old.lines
        )
        old_cost += old.shipping_cents
        new_cost = sum(leg.landed_cost.cents for leg in plan.legs)
        extra = new_cost - old_cost
        if (
            extra > tolerance_cents(ctx, old_cost)
            and not SourcePayload.read(command.payload).absorb
        ):
            t.hold(
                ctx,
                session,
                order,
                "price_drift",
                f"{old.supplier} refused {po_number}; the next warehouse costs "
                f"{Money(cents=extra, currency=old.currency)} more than the "
                f"{charged_for(old)} charged for it. Approve to buy it anyway, or cancel the "
                "order to refund.",
            )
            return
        move_po(ctx, old, PurchaseOrderEvent.replaced)
        create_purchase_orders(ctx, session, order, plan.legs, tax_cents=old.tax_cents)
        t.record(
            ctx,
            session,
            order,
            "resourced",
            f"{old.supplier} refused {po_number}; re-sourced: {plan.explanation}",
            data={"extra_cost_cents": extra},
        )
        if extra < 0:
            # the charge paid for the refused PO; what the cheaper one does not need goes back
            enqueue_refund(
                ctx,
                session,
                order,
                key=f"refund:resourced:{po_number}",
                amount_cents=-extra,
                core_charges_cents=max(
                    sum(line.core_charge_cents * line.quantity for line in old.lines)
                    - plan.core_charges.cents,
                    0,
                ),
                reason=f"The warehouse that replaced {po_number} costs less than was charged.",
            )


def store_plan(
    ctx: PipelineContext, session: Session, order: OrderRow, plan: SourcingPlan
) -> SourcingPlanRow:
    """Keep the plan with its numbers, replacing the previous active plan."""
    previous = repo.active_plan(session, order.id)
    if previous is not None:
        previous.active = False
    row = SourcingPlanRow(
        merchant_id=ctx.merchant_id,
        order_id=order.id,
        generation=order.source_generation,
        active=True,
        plan=plan.model_dump(mode="json"),
        currency=plan.currency,
        parts_cents=plan.parts_cost.cents,
        core_charges_cents=plan.core_charges.cents,
        shipping_cents=plan.shipping.cents,
        tax_cents=plan.tax.cents,
        total_cents=plan.total.cents,
        explanation=plan.explanation,
        created_at=ctx.now(),
    )
    session.add(row)
    return row


def price_drift(ctx: PipelineContext, order: Order, plan: SourcingPlan) -> str | None:
    """A sentence when buying costs more than the buyer paid beyond tolerance, else None."""
    if order.buyer_paid is None:
        return None
    revenue = order.buyer_paid.items.cents + order.buyer_paid.shipping.cents
    cost = plan.parts_cost.cents + plan.core_charges.cents + plan.shipping.cents
    if cost - revenue <= tolerance_cents(ctx, revenue):
        return None
    currency = plan.currency
    return (
        f"Buying this order costs {Money(cents=cost, currency=currency)} (parts, cores and shipping) "
        f"but the buyer paid {Money(cents=revenue, currency=currency)}. Approve to buy it anyway."
    )
