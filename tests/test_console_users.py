"""Console users and sign-in, below the browser.

Specified here:
* ``fbs users add/list/remove/passwd/unlock`` manage the config's merchant's users; the
  password is stored as an argon2 hash, never as given; short passwords and taken names
  are refused with a clear message.
* A wrong password counts against the account: the fifth in a row locks it, and then
  even the right password is refused until an owner (or ``fbs users unlock``, or a new
  password) lifts the lock.
* Refused sign-ins count against the address too: past the limit the address is refused
  whatever account it names, without the password being tried.
* A new password or a removal ends the user's sessions (their session version changes).
* After signing in, only a local path is followed (no open redirect).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fbs_core.cli import main
from fbs_core.console.console_users import (
    ADDRESS_LIMIT,
    LOCKOUT_AFTER,
    Role,
    SignInOutcome,
    add_user,
    session_user,
    set_password,
    sign_in,
    unlock,
)
from fbs_core.db import Database
from fbs_core.db.models import ConsoleUserRow

PASSWORD = "correct horse battery"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path, monkeypatch, fbs_database_url):
    monkeypatch.chdir(tmp_path)
    for name in ("FBS_CONFIG", "FBS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "fbs.toml"
    path.write_text(f'merchant_id = "acme"\ndatabase_url = "{fbs_database_url}"\n')
    return path


def fbs(config, *args: str, password: str | None = None):
    extra = ["--password-stdin"] if password is not None else []
    return CliRunner().invoke(
        main, ["--config", str(config), *args, *extra], input=f"{password}\n" if password else None
    )


def test_users_are_added_listed_given_a_new_password_and_removed(config, fbs_database_url):
    added = fbs(config, "users", "add", "alice", "--role", "owner", password=PASSWORD)
    assert added.exit_code == 0, added.output
    assert "added alice (owner) to merchant acme" in added.output
    fbs(config, "users", "add", "bob", "--role", "viewer", password=PASSWORD)

    listed = fbs(config, "users", "list")
    assert listed.output.splitlines() == ["alice\towner\tactive", "bob\tviewer\tactive"]

    db = Database(fbs_database_url)
    try:
        with db.transaction() as session:
            row = session.scalars(
                select(ConsoleUserRow).where(ConsoleUserRow.username == "alice")
            ).one()
            assert row.merchant_id == "acme"
            assert row.password_hash.startswith("$argon2id$")
            assert PASSWORD not in row.password_hash
            before = row.session_version

        changed = fbs(config, "users", "passwd", "alice", password="another long password")
        assert changed.exit_code == 0, changed.output
        with db.transaction() as session:
            assert session_user(session, row.id, before) is None  # old sessions end
            assert sign_in(session, "alice", "another long password", "10.0.0.1", NOW)[0] == (
                SignInOutcome.ok
            )

        removed = fbs(config, "users", "remove", "bob")
        assert removed.exit_code == 0
        assert fbs(config, "users", "list").output.splitlines() == ["alice\towner\tactive"]
    finally:
        db.dispose()


def test_short_passwords_taken_names_and_unknown_users_are_refused_clearly(config):
    short = fbs(config, "users", "add", "alice", password="short")
    assert short.exit_code == 2
    assert "at least 10 characters" in short.output
    fbs(config, "users", "add", "alice", password=PASSWORD)
    again = fbs(config, "users", "add", "alice", password=PASSWORD)
    assert again.exit_code == 2
    assert "already a user called alice" in again.output
    missing = fbs(config, "users", "remove", "nobody")
    assert missing.exit_code == 2
    assert "no user called nobody" in missing.output
    spaced = fbs(config, "users", "add", "al ice", password=PASSWORD)
    assert "is not a user name" in spaced.output


def test_wrong_passwords_in_a_row_lock_the_account_until_an_owner_lifts_it(fbs_database, config):
    with fbs_database.transaction() as session:
        user = add_user(session, "acme", "carol", Role.staff, PASSWORD, NOW)
    outcomes = []
    for n in range(LOCKOUT_AFTER):
        with fbs_database.transaction() as session:
            outcomes.append(sign_in(session, "carol", f"wrong {n}", f"10.0.0.{n}", NOW)[0])
    assert outcomes == [SignInOutcome.wrong] * (LOCKOUT_AFTER - 1) + [SignInOutcome.locked]
    with fbs_database.transaction() as session:
        assert sign_in(session, "carol", PASSWORD, "10.0.0.9", NOW) == (SignInOutcome.locked, None)
        assert session_user(session, user.id, user.session_version) is None
    listed = fbs(config, "users", "list")
    assert "carol\tstaff\tlocked out" in listed.output

    with fbs_database.transaction() as session:
        assert unlock(session, "other-merchant", user.id) is None  # not theirs to lift
        assert unlock(session, "acme", user.id) is not None
    with fbs_database.transaction() as session:
        outcome, signed = sign_in(session, "carol", PASSWORD, "10.0.0.9", NOW)
    assert outcome is SignInOutcome.ok
    assert signed is not None and signed.merchant_id == "acme"

    for _ in range(LOCKOUT_AFTER):
        with fbs_database.transaction() as session:
            sign_in(session, "carol", "wrong", "10.0.1.1", NOW)
    assert fbs(config, "users", "unlock", "carol").exit_code == 0
    with fbs_database.transaction() as session:
        assert sign_in(session, "carol", PASSWORD, "10.0.1.2", NOW)[0] is SignInOutcome.ok
        for _ in range(LOCKOUT_AFTER):
            sign_in(session, "carol", "wrong", "10.0.1.3", NOW)
        set_password(session, "acme", "carol", "a brand new password")
    with fbs_database.transaction() as session:
        assert sign_in(session, "carol", "a brand new password", "10.0.1.4", NOW)[0] is (
            SignInOutcome.ok
        )


def test_one_address_is_refused_after_too_many_failures_whatever_account_it_names(fbs_database):
    with fbs_database.transaction() as session:
        add_user(session, "acme", "dave", Role.viewer, PASSWORD, NOW)
    for n in range(ADDRESS_LIMIT):
        with fbs_database.transaction() as session:
            assert sign_in(session, f"guess{n}", "nope", "192.0.2.7", NOW)[0] is SignInOutcome.wrong
    with fbs_database.transaction() as session:
        assert sign_in(session, "dave", PASSWORD, "192.0.2.7", NOW) == (
            SignInOutcome.address_limited,
            None,
        )
        assert sign_in(session, "dave", PASSWORD, "192.0.2.8", NOW)[0] is SignInOutcome.ok
    later = NOW + timedelta(minutes=16)
    with fbs_database.transaction() as session:
        assert sign_in(session, "dave", PASSWORD, "192.0.2.7", later)[0] is SignInOutcome.ok


def test_after_sign_in_only_local_paths_are_followed():
    from fbs_core.console.console_app import _safe_next

    assert _safe_next("/orders?status=held") == "/orders?status=held"
    for outside in ("https://evil.example", "//evil.example", "/\\evil.example", "", None):
        assert _safe_next(outside) == "/"
