"""Console users: argon2 password hashes, roles, and sign-in with rate limits.

A wrong password counts against the account and against the address it came from.
:data:`LOCKOUT_AFTER` wrong passwords in a row lock the account until an owner lifts
the lock (in the console or with ``fbs users unlock``) or a new password is set; more
than :data:`ADDRESS_LIMIT` refused sign-ins from one address within
:data:`ADDRESS_WINDOW` refuse that address for the rest of the window, whichever
account it names.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..db.models import ConsoleSignInFailureRow, ConsoleUserRow
from ..errors import UserError

LOCKOUT_AFTER = 5
"""Wrong passwords in a row that lock an account."""
ADDRESS_LIMIT = 20
"""Refused sign-ins from one address allowed within :data:`ADDRESS_WINDOW`."""
ADDRESS_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9._@+-]{1,254}$")

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("a password nobody has")
"""Verified against when no user has the name, so the answer takes as long either way."""


class Role(enum.StrEnum):
    """What a user may do: owners everything, staff act on orders, viewers read."""

    owner = "owner"
    staff = "staff"
    viewer = "viewer"

    @property
    def can_act(self) -> bool:
        """Whether the role may send, cancel and retry orders."""
        return self in (Role.owner, Role.staff)


class SignInOutcome(enum.StrEnum):
    """The result of a sign-in attempt."""

    ok = "ok"
    wrong = "wrong"
    locked = "locked"
    address_limited = "address_limited"


@dataclass(frozen=True)
class ConsoleUser:
    """A signed-in (or listed) user: what the pages need, never the hash."""

    id: int
    merchant_id: str
    username: str
    role: Role
    session_version: int
    locked: bool
    failed_sign_ins: int


def _view(row: ConsoleUserRow) -> ConsoleUser:
    return ConsoleUser(
        id=row.id,
        merchant_id=row.merchant_id,
        username=row.username,
        role=Role(row.role),
        session_version=row.session_version,
        locked=row.locked_at is not None,
        failed_sign_ins=row.failed_sign_ins,
    )


def check_password(password: str) -> None:
    """UserError unless ``password`` is long enough to keep."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters long")


def add_user(
    session: Session, merchant_id: str, username: str, role: Role, password: str, now: datetime
) -> ConsoleUser:
    """Add a user to a merchant; UserError for a taken or malformed name or a short password."""
    if not USERNAME_PATTERN.fullmatch(username):
        raise UserError(
            f"{username!r} is not a user name: letters, digits and . _ @ + - only, no spaces"
        )
    check_password(password)
    if session.scalars(select(ConsoleUserRow).where(ConsoleUserRow.username == username)).first():
        raise UserError(f"there is already a user called {username}")
    row = ConsoleUserRow(
        merchant_id=merchant_id,
        username=username,
        role=role.value,
        password_hash=_hasher.hash(password),
        session_version=1,
        failed_sign_ins=0,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _view(row)


def list_users(session: Session, merchant_id: str) -> list[ConsoleUser]:
    """The merchant's users by name."""
    rows = session.scalars(
        select(ConsoleUserRow)
        .where(ConsoleUserRow.merchant_id == merchant_id)
        .order_by(ConsoleUserRow.username)
    )
    return [_view(row) for row in rows]


def _named(session: Session, merchant_id: str, username: str) -> ConsoleUserRow:
    row = session.scalars(
        select(ConsoleUserRow).where(
            ConsoleUserRow.merchant_id == merchant_id, ConsoleUserRow.username == username
        )
    ).one_or_none()
    if row is None:
        raise UserError(f"there is no user called {username}")
    return row


def remove_user(session: Session, merchant_id: str, username: str) -> None:
    """Remove a user; their open sessions stop working at their next request."""
    session.delete(_named(session, merchant_id, username))


def set_password(session: Session, merchant_id: str, username: str, password: str) -> None:
    """Set a new password: signs the user out everywhere and lifts a lockout."""
    check_password(password)
    row = _named(session, merchant_id, username)
    row.password_hash = _hasher.hash(password)
    row.session_version += 1
    row.failed_sign_ins = 0
    row.locked_at = None


def unlock(session: Session, merchant_id: str, user_id: int) -> ConsoleUser | None:
    """Lift a lockout on the merchant's user ``user_id``; None when the merchant has no such user."""
    row = user_by_id(session, merchant_id, user_id)
    if row is None:
        return None
    row.locked_at = None
    row.failed_sign_ins = 0
    return _view(row)


def unlock_named(session: Session, merchant_id: str, username: str) -> None:
    """Lift a lockout by user name (``fbs users unlock``)."""
    row = _named(session, merchant_id, username)
    row.locked_at = None
    row.failed_sign_ins = 0


def user_by_id(session: Session, merchant_id: str, user_id: int) -> ConsoleUserRow | None:
    """The merchant's user ``user_id`` (None for another merchant's)."""
    return session.scalars(
        select(ConsoleUserRow).where(
            ConsoleUserRow.merchant_id == merchant_id, ConsoleUserRow.id == user_id
        )
    ).one_or_none()


def session_user(session: Session, user_id: int, version: int) -> ConsoleUser | None:
    """The user a session cookie names, if it still exists and its password is unchanged."""
    row = session.get(ConsoleUserRow, user_id)
    if row is None or row.session_version != version or row.locked_at is not None:
        return None
    return _view(row)


def sign_in(
    session: Session, username: str, password: str, address: str, now: datetime
) -> tuple[SignInOutcome, ConsoleUser | None]:
    """Check a password, counting failures per account and per address."""
    since = now - ADDRESS_WINDOW
    session.execute(delete(ConsoleSignInFailureRow).where(ConsoleSignInFailureRow.at < since))
    recent = session.scalar(
        select(func.count())
        .select_from(ConsoleSignInFailureRow)
        .where(ConsoleSignInFailureRow.address == address, ConsoleSignInFailureRow.at >= since)
    )
    if (recent or 0) >= ADDRESS_LIMIT:
        return SignInOutcome.address_limited, None
    row = session.scalars(
        select(ConsoleUserRow).where(ConsoleUserRow.username == username).with_for_update()
    ).one_or_none()
    if row is not None and row.locked_at is not None:
        _refused(session, row.merchant_id, username, address, now)
        return SignInOutcome.locked, None
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        good = row is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        good = False
    if not good or row is None:
        _refused(session, row.merchant_id if row else "", username, address, now)
        if row is not None:
            row.failed_sign_ins += 1
            if row.failed_sign_ins >= LOCKOUT_AFTER:
                row.locked_at = now
                return SignInOutcome.locked, None
        return SignInOutcome.wrong, None
    row.failed_sign_ins = 0
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return SignInOutcome.ok, _view(row)


def _refused(
    session: Session, merchant_id: str, username: str, address: str, now: datetime
) -> None:
    session.add(
        ConsoleSignInFailureRow(
            merchant_id=merchant_id, address=address[:64], username=username[:254], at=now
        )
    )
