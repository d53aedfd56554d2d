"""The console's Starlette application: routes, sign-in, and the pages' handlers.

Handlers are plain functions (Starlette runs them in its thread pool) that open one
transaction each. A page for an id the signed-in user's merchant does not have answers
404, exactly as an id that does not exist, so ids of other merchants reveal nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..cli.orders_cmd import ORDER_STATUSES, order_summary
from ..db import Database
from ..domain import Money
from ..errors import UserError
from ..pipeline.context import PipelineContext
from . import console_queries as q
from .console_actions import OrderAction, available, describe, perform, refundable_cents
from .console_chart import orders_chart
from .console_security import (
    CSRF_FIELD,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    SecurityHeaders,
    csrf_ok,
    csrf_token,
    session_key,
)
from .console_users import (
    ConsoleUser,
    Role,
    SignInOutcome,
    session_user,
    sign_in,
    unlock,
    user_by_id,
)

STATIC = Path(__file__).parent / "static"
LIVE_SECONDS = 5
"""How often pages that change while watched (held queue, an order in flight) refresh."""


@dataclass
class ConsoleConfig:
    """What the console needs besides the database.

    Args:
        contexts: builds the pipeline context that acts on a merchant's orders.
        instances: (kind, name, type) of each configured instance, for the instances page.
        rules: the fulfillment rules in force, as plain values (no secrets).
        secure_cookies: send the session cookie only over https.
    """

    contexts: Callable[[str], PipelineContext]
    instances: list[tuple[str, str, str]] = field(default_factory=list)
    rules: dict[str, Any] = field(default_factory=dict)
    rate_use: Callable[[], dict[tuple[str, str], str]] = dict
    """(kind, name) → the instance's rate-limit use, as a phrase."""
    secure_cookies: bool = False
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def _money(cents: int, currency: str = "USD") -> str:
    return str(Money(cents=cents, currency=currency))


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("fbs_core.console", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money
    env.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M") if value else ""
    return env


def create_console_app(db: Database, config: ConsoleConfig) -> Starlette:
    """The console as an ASGI app on ``db``."""
    env = _templates()

    def render(request: Request, template: str, status_code: int = 200, **values: Any) -> Response:
        values.setdefault("user", getattr(request.state, "user", None))
        html = env.get_template(template).render(
            request=request, csrf_field=CSRF_FIELD, csrf_token=csrf_token(request), **values
        )
        return HTMLResponse(html, status_code=status_code)

    def signed_in(request: Request) -> ConsoleUser:
        uid, version = request.session.get("uid"), request.session.get("ver")
        user = None
        if isinstance(uid, int) and isinstance(version, int):
            with db.transaction() as session:
                user = session_user(session, uid, version)
        if user is None:
            request.session.pop("uid", None)
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise HTTPException(
                303, headers={"Location": "/sign-in?" + urlencode({"next": target})}
            )
        request.state.user = user
        return user

    def form_handler(
        handler: Callable[[Request, dict[str, Any]], Response],
    ) -> Callable[[Request], Any]:
        """An endpoint for a form: 403 without the session's CSRF token, else ``handler``.

        The token is checked before anything is read or changed; ``handler`` runs in the
        thread pool, as the database and argon2 block.
        """

        async def endpoint(request: Request) -> Response:
            form = await request.form()
            if not csrf_ok(request, form.get(CSRF_FIELD)):
                raise HTTPException(403, "This form has expired or did not come from the console.")
            values = {key: form.getlist(key) if key == "ids" else form.get(key) for key in form}
            return await run_in_threadpool(handler, request, values)

        return endpoint

    def may_act(user: ConsoleUser) -> None:
        if not user.role.can_act:
            raise HTTPException(403, "Viewers can read orders but not act on them.")

    # -- sign-in -----------------------------------------------------------------------

    def sign_in_page(request: Request) -> Response:
        return render(request, "sign_in.html", next=_safe_next(request.query_params.get("next")))

    def sign_in_post(request: Request, form: dict[str, Any]) -> Response:
        username = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        nxt = _safe_next(str(form.get("next") or ""))
        address = request.client.host if request.client else "unknown"
        with db.transaction() as session:
            outcome, user = sign_in(session, username, password, address, config.clock())
        if outcome is not SignInOutcome.ok or user is None:
            message = {
                SignInOutcome.wrong: "Wrong user name or password.",
                SignInOutcome.locked: "This account is locked after too many wrong passwords. "
                "Ask an owner of your account to unlock it.",
                SignInOutcome.address_limited: "Too many failed sign-ins from your address. "
                "Try again in 15 minutes.",
            }[outcome]
            status = 429 if outcome is SignInOutcome.address_limited else 401
            return render(
                request, "sign_in.html", status, error=message, next=nxt, username=username
            )
        request.session.clear()
        request.session.update({"uid": user.id, "ver": user.session_version})
        csrf_token(request)  # a new token for the new session
        return RedirectResponse(nxt, status_code=303)

    def sign_out(request: Request, form: dict[str, Any]) -> Response:
        request.session.clear()
        return RedirectResponse("/sign-in", status_code=303)

    # -- pages -------------------------------------------------------------------------

    def overview_page(request: Request) -> Response:
        user = signed_in(request)
        with db.transaction() as session:
            data = q.overview(session, user.merchant_id, config.clock())
        return render(
            request,
            "overview.html",
            data=data,
            chart=Markup(orders_chart(data.chart)),  # noqa: S704 - built from escaped parts
            configured=config.instances,
            states={(s.kind, s.name): s for s in data.instances},
            rate_use=config.rate_use(),
        )

    def _filters(request: Request) -> q.OrderFilters:
        params = request.query_params
        return q.OrderFilters(
            status=params.get("status", "") if params.get("status") in ORDER_STATUSES else "",
            hold_reason=params.get("hold_reason", ""),
            channel=params.get("channel", ""),
            warehouse=params.get("warehouse", ""),
            placed_from=_date(params.get("from")),
            placed_to=_date(params.get("to")),
            search=params.get("q", "")[:200],
        )

    def orders_page(request: Request) -> Response:
        user = signed_in(request)
        filters = _filters(request)
        page = _int(request.query_params.get("page"), 1)
        with db.transaction() as session:
            found = q.find_orders(session, user.merchant_id, filters, page)
            choices = q.filter_choices(session, user.merchant_id)
        query = {k: v for k, v in request.query_params.items() if k != "page" and v}
        return render(
            request,
            "orders.html",
            found=found,
            filters=filters,
            choices=choices,
            statuses=ORDER_STATUSES,
            query=query,
            prev_url="/orders?" + urlencode({**query, "page": found.page - 1}),
            next_url="/orders?" + urlencode({**query, "page": found.page + 1}),
            csv_url="/orders.csv?" + urlencode(query),
        )

    def orders_csv(request: Request) -> Response:
        user = signed_in(request)
        with db.transaction() as session:
            orders = q.all_orders(session, user.merchant_id, _filters(request))
        out = io.StringIO()
        rows = [order_summary(order) for order in orders]
        writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
        )

    def _detail(user: ConsoleUser, order_id: int) -> Any:
        with db.transaction() as session:
            detail = q.order_detail(session, user.merchant_id, order_id)
        if detail is None:
            raise HTTPException(404, f"There is no order {order_id}.")
        return detail

    def order_page(request: Request) -> Response:
        user = signed_in(request)
        detail = _detail(user, request.path_params["order_id"])
        return render(
            request,
            "order.html",
            detail=detail,
            order=detail.order,
            can=available(detail),
            refundable=refundable_cents(detail),
            live=not detail.order.status.is_final,
            result=request.session.pop("result", None),
        )

    def _action(request: Request) -> OrderAction:
        try:
            return OrderAction(request.path_params["action"])
        except ValueError:
            raise HTTPException(404, "There is no such action.") from None

    def confirm_page(request: Request) -> Response:
        user = signed_in(request)
        detail = _detail(user, request.path_params["order_id"])
        action = _action(request)
        return render(
            request,
            "confirm.html",
            order=detail.order,
            action=action,
            sentence=describe(detail, action),
            blocked=available(detail)[action],
        )

    def action_post(request: Request, form: dict[str, Any]) -> Response:
        user = signed_in(request)
        order_id = request.path_params["order_id"]
        _detail(user, order_id)
        action = _action(request)
        may_act(user)
        try:
            outcome = perform(config.contexts(user.merchant_id), order_id, action, _actor(user))
        except UserError as exc:
            outcome = f"not done: {exc}"
        request.session["result"] = f"{action.value}: {outcome}"
        return RedirectResponse(f"/orders/{order_id}", status_code=303)

    def held_page(request: Request) -> Response:
        user = signed_in(request)
        with db.transaction() as session:
            groups = q.held_by_reason(session, user.merchant_id)
        return render(
            request,
            "held.html",
            groups=groups,
            live=True,
            result=request.session.pop("result", None),
        )

    def held_confirm(request: Request, form: dict[str, Any]) -> Response:
        user = signed_in(request)
        may_act(user)
        action = (
            OrderAction(form.get("action")) if form.get("action") in ("send", "cancel") else None
        )
        ids = [i for i in (_int(v, 0) for v in form.get("ids") or []) if i]
        if action is None or not ids:
            request.session["result"] = "choose orders and Send or Cancel"
            return RedirectResponse("/held", status_code=303)
        sentences = []
        for order_id in ids:
            sentences.append(describe(_detail(user, order_id), action))
        return render(request, "held_confirm.html", action=action, ids=ids, sentences=sentences)

    def held_bulk(request: Request, form: dict[str, Any]) -> Response:
        user = signed_in(request)
        may_act(user)
        action = _action(request)
        if action is OrderAction.retry:
            raise HTTPException(404, "There is no such action.")
        ids = [i for i in (_int(v, 0) for v in form.get("ids") or []) if i]
        with db.transaction() as session:
            mine = set(q.merchant_order_ids(session, user.merchant_id, ids))
        if set(ids) - mine:
            raise HTTPException(404, "Some of these orders do not exist.")
        ctx = config.contexts(user.merchant_id)
        done, failed = 0, []
        for order_id in ids:
            try:
                perform(ctx, order_id, action, _actor(user))
                done += 1
            except UserError as exc:
                failed.append(str(exc))
        request.session["result"] = f"{action.value}: {done} order(s) done" + (
            f"; not done: {'; '.join(failed)}" if failed else ""
        )
        return RedirectResponse("/held", status_code=303)

    def instances_page(request: Request) -> Response:
        user = signed_in(request)
        with db.transaction() as session:
            data = q.overview(session, user.merchant_id, config.clock())
        states = {(s.kind, s.name): s for s in data.instances}
        return render(
            request,
            "instances.html",
            configured=config.instances,
            states=states,
            rate_use=config.rate_use(),
            rules=config.rules,
        )

    def users_page(request: Request) -> Response:
        user = signed_in(request)
        if user.role is not Role.owner:
            raise HTTPException(403, "Only owners manage users.")
        from .console_users import list_users

        with db.transaction() as session:
            users = list_users(session, user.merchant_id)
        return render(
            request, "users.html", users=users, result=request.session.pop("result", None)
        )

    def unlock_post(request: Request, form: dict[str, Any]) -> Response:
        user = signed_in(request)
        user_id = request.path_params["user_id"]
        with db.transaction() as session:
            if user_by_id(session, user.merchant_id, user_id) is None:
                raise HTTPException(404, "There is no such user.")
        if user.role is not Role.owner:
            raise HTTPException(403, "Only owners manage users.")
        with db.transaction() as session:
            unlocked = unlock(session, user.merchant_id, user_id)
        if unlocked is None:
            raise HTTPException(404, "There is no such user.")
        request.session["result"] = f"{unlocked.username} may sign in again"
        return RedirectResponse("/users", status_code=303)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code in (301, 302, 303, 307) and exc.headers:
            return RedirectResponse(exc.headers["Location"], status_code=exc.status_code)
        return render(
            request,
            "error.html",
            exc.status_code,
            status=exc.status_code,
            message=exc.detail,
        )

    routes = [
        Route("/", overview_page, methods=["GET"], name="overview"),
        Route("/sign-in", sign_in_page, methods=["GET"], name="sign_in"),
        Route("/sign-in", form_handler(sign_in_post), methods=["POST"], name="sign_in_post"),
        Route("/sign-out", form_handler(sign_out), methods=["POST"], name="sign_out"),
        Route("/orders", orders_page, methods=["GET"], name="orders"),
        Route("/orders.csv", orders_csv, methods=["GET"], name="orders_csv"),
        Route("/orders/{order_id:int}", order_page, methods=["GET"], name="order"),
        Route("/orders/{order_id:int}/{action}", confirm_page, methods=["GET"], name="confirm"),
        Route(
            "/orders/{order_id:int}/{action}",
            form_handler(action_post),
            methods=["POST"],
            name="act",
        ),
        Route("/held", held_page, methods=["GET"], name="held"),
        Route("/held/confirm", form_handler(held_confirm), methods=["POST"], name="held_confirm"),
        Route("/held/{action}", form_handler(held_bulk), methods=["POST"], name="held_bulk"),
        Route("/instances", instances_page, methods=["GET"], name="instances"),
        Route("/users", users_page, methods=["GET"], name="users"),
        Route(
            "/users/{user_id:int}/unlock",
            form_handler(unlock_post),
            methods=["POST"],
            name="unlock",
        ),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=session_key(db),
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_MAX_AGE,
                same_site="lax",
                https_only=config.secure_cookies,
            ),
        ],
        exception_handlers={HTTPException: on_http_error},
    )


CSV_FIELDS = [
    "id",
    "channel",
    "external_id",
    "number",
    "status",
    "hold_reason",
    "hold_message",
    "items_cents",
    "currency",
    "ship_by",
    "created_at",
    "updated_at",
]
"""The columns of the CSV export: the keys of ``fbs orders list --json``."""


def _actor(user: ConsoleUser) -> str:
    return f"{user.username} (console)"


def _safe_next(value: str | None) -> str:
    """A local path to go to after signing in; anything else goes to the overview."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/"


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


__all__ = ["CSV_FIELDS", "ConsoleConfig", "create_console_app"]
