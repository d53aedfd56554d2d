"""Sessions, CSRF tokens and the security headers of every console response.

The session is a cookie signed with a key kept in the database (Starlette's session
middleware, itsdangerous underneath): HttpOnly, SameSite=Lax, Secure when the console's
public address is https. It names the user and the user's session version, so a new
password or a removal ends every session at once. Each session carries a random CSRF
token that every form posts back; a POST without it is refused with 403 before anything
is read or changed.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

from ..db.models import ConsoleSecretRow
from ..db.types import utcnow

if TYPE_CHECKING:
    from ..db import Database

SESSION_COOKIE = "fbs_console"
SESSION_MAX_AGE = 12 * 3600
"""A session lasts a working day."""
SESSION_KEY_NAME = "session_key"
CSRF_FIELD = "csrf_token"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""Scripts and styles only from the console's own files: no inline script runs."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def session_key(db: Database) -> str:
    """The database's session-signing key, made on first use (every process shares it)."""
    with db.transaction() as session:
        row = session.scalars(
            select(ConsoleSecretRow).where(
                ConsoleSecretRow.merchant_id == "", ConsoleSecretRow.name == SESSION_KEY_NAME
            )
        ).one_or_none()
        if row is not None:
            return row.value
    try:
        with db.transaction() as session:
            session.add(
                ConsoleSecretRow(
                    merchant_id="",
                    name=SESSION_KEY_NAME,
                    value=secrets.token_urlsafe(48),
                    created_at=utcnow(),
                )
            )
    except Exception:  # noqa: BLE001 - another process made it first: read theirs
        pass
    with db.transaction() as session:
        return session.scalars(
            select(ConsoleSecretRow.value).where(
                ConsoleSecretRow.merchant_id == "", ConsoleSecretRow.name == SESSION_KEY_NAME
            )
        ).one()


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made when the session is."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def csrf_ok(request: Request, posted: object) -> bool:
    """Whether a posted form carries the session's token."""
    expected = request.session.get(CSRF_FIELD)
    return (
        isinstance(posted, str)
        and bool(expected)
        and hmac.compare_digest(posted.encode(), str(expected).encode())
    )


class SecurityHeaders(BaseHTTPMiddleware):
    """Adds :data:`SECURITY_HEADERS` to every response; pages are never cached."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Answer the request, then set the headers."""
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response
