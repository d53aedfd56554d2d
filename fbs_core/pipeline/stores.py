"""Stores known by identity: which store each channel instance reads, and what changed.

Orders belong to (merchant, store identity, external id), not to an instance name.
Before its first poll each channel names its store (``OrderSource.store_identity``) and
the name is recorded on the instance's poll bookkeeping. From that record fbs tells:

* a renamed instance (a new name reading a store an unconfigured name used to read): its
  orders, their unfinished channel commands and its cursor move to the new name;
* an instance pointed at another store while orders of the old one are in flight, or a
  changed ``merchant_id`` while the store has orders in flight under the old one: refused
  with :class:`StoreIdentityError`, because carrying on would strand or repeat orders.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from ..db import repository as repo
from ..db.models import STORE_IDENTITY_LENGTH
from ..errors import AdapterError, ConfigError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..adapters import OrderSource
    from .context import PipelineContext

log = logging.getLogger("fbs.stores")

FALLBACK_PREFIX = "instance:"
"""Identity of a channel that cannot name its store: its orders are known by instance name."""
STORE_COMMANDS = ("acknowledge", "push_tracking")
"""Command kinds that talk to an order's store, so they follow its instance's new name."""


class StoreIdentityError(ConfigError):
    """The config points channel instances at stores in a way that would lose or repeat orders."""


def fallback_identity(name: str) -> str:
    """The identity of a channel instance whose plugin names no store."""
    return f"{FALLBACK_PREFIX}{name}"


def identity_of(ctx: PipelineContext, channel: str) -> str:
    """The store identity orders of ``channel`` are kept under."""
    return ctx.store_identities.get(channel) or fallback_identity(channel)


def reported_identity(name: str, adapter: OrderSource) -> str:
    """Ask a channel for its store identity; AdapterError if the store cannot say now."""
    identity = adapter.store_identity()
    if identity is None:
        return fallback_identity(name)
    if not isinstance(identity, str) or not identity.strip():
        raise ConfigError(f"channel {name!r} reported an empty store identity (a plugin bug)")
    if len(identity) > STORE_IDENTITY_LENGTH:
        raise ConfigError(
            f"channel {name!r} reported a store identity longer than {STORE_IDENTITY_LENGTH} "
            "characters (a plugin bug)"
        )
    return identity


def collect(channels: Mapping[str, OrderSource]) -> tuple[dict[str, str], dict[str, str]]:
    """Every channel's store identity, and the channels that could not name it (and why)."""
    found: dict[str, str] = {}
    failed: dict[str, str] = {}
    for name, adapter in sorted(channels.items()):
        try:
            found[name] = reported_identity(name, adapter)
        except AdapterError as exc:
            failed[name] = f"{exc.code}: {exc.message}"
        except ConfigError as exc:
            failed[name] = str(exc)
        except Exception as exc:  # noqa: BLE001 - a plugin bug is reported, never fatal
            adapter.log.exception("store_identity() failed in plugin")
            failed[name] = f"{type(exc).__name__}: {exc}"
    return found, failed


def conflicts(session: Session, merchant_id: str, identities: Mapping[str, str]) -> list[str]:
    """What in ``identities`` (instance → store) would strand or repeat orders in flight."""
    problems: list[str] = []
    names_by_store: dict[str, list[str]] = defaultdict(list)
    for name, identity in sorted(identities.items()):
        names_by_store[identity].append(name)
    for identity, names in names_by_store.items():
        if len(names) > 1:
            listed = ", ".join(f"[channels.{name}]" for name in names)
            problems.append(
                f"{listed} all read the same store ({identity}); keep only one of them."
            )
    configured = set(identities.values())
    for name, identity in sorted(identities.items()):
        if not identity.startswith(FALLBACK_PREFIX):
            for other, count in sorted(repo.count_in_flight(session, identity).items()):
                if other != merchant_id:
                    problems.append(
                        f"merchant_id changed from {other!r} to {merchant_id!r}: the store of "
                        f"[channels.{name}] ({identity}) has {count} order(s) in flight under "
                        f"merchant_id {other!r}. Set merchant_id back to {other!r} until they "
                        "are completed or cancelled (fbs orders list), then change it."
                    )
        state = repo.instance_state(session, merchant_id, "channel", name)
        recorded = state.store_identity if state is not None else None
        if (
            recorded is None
            or recorded == identity
            or recorded.startswith(FALLBACK_PREFIX)
            or recorded in configured  # the store moved to another configured instance
        ):
            continue
        count = repo.count_in_flight(session, recorded, merchant_id=merchant_id).get(merchant_id)
        if count:
            problems.append(
                f"[channels.{name}] now points at a different store: it read {recorded}, it "
                f"now reads {identity}, and {count} order(s) from {recorded} are in flight. "
                f"Point [channels.{name}] back at {recorded} until they are completed or "
                "cancelled (fbs orders list), or add the new store as a channel under a "
                "new name."
            )
    return problems


def refuse_conflicts(session: Session, merchant_id: str, identities: Mapping[str, str]) -> None:
    """Raise :class:`StoreIdentityError` with every problem :func:`conflicts` finds."""
    problems = conflicts(session, merchant_id, identities)
    if problems:
        raise StoreIdentityError("\n".join(problems))


def record(
    session: Session, merchant_id: str, identities: Mapping[str, str], configured: Collection[str]
) -> None:
    """Record each instance's store and move every order of that store to it.

    ``configured`` names every channel instance in the config, identified or not. Call
    after :func:`refuse_conflicts` in the same transaction, with the poll bookkeeping rows
    already made (``repo.ensure_instances``).
    """
    for name, identity in sorted(identities.items()):
        state = repo.instance_state(session, merchant_id, "channel", name)
        if state is None:
            continue
        recorded = state.store_identity
        if recorded != identity:
            if recorded is None or recorded.startswith(FALLBACK_PREFIX):
                _adopt_orders_known_by_name(session, merchant_id, name, identity)
                cursor = _renamed_from(session, merchant_id, name, identity, configured)
                if cursor is not None:
                    state.cursor = cursor
            else:
                log.warning(
                    "channel %r reads another store now (%s); reading it afresh", name, identity
                )
                state.cursor = None
            state.store_identity = identity
        moved = repo.move_store_orders(session, merchant_id, identity, name, STORE_COMMANDS)
        if moved:
            log.warning("%d order(s) of %s now go through channel %r", moved, identity, name)


def _adopt_orders_known_by_name(
    session: Session, merchant_id: str, name: str, identity: str
) -> None:
    """Orders stored under the instance's name before it named its store join the store."""
    fallback = fallback_identity(name)
    if identity != fallback:
        repo.adopt_store_orders(session, merchant_id, identity, from_identity=fallback)


def _renamed_from(
    session: Session, merchant_id: str, name: str, identity: str, configured: Collection[str]
) -> str | None:
    """The cursor of the unconfigured instance that read this store before, if any."""
    previous = repo.channel_state_for_store(session, merchant_id, identity, other_than=name)
    if previous is None or previous.name in configured:
        return None
    log.warning(
        "channel %r was renamed %r: its orders carry on under the new name", previous.name, name
    )
    previous.store_identity = None
    return previous.cursor


def establish(ctx: PipelineContext, names: list[str] | None = None) -> None:
    """Identify the stores of ``names`` (every channel if None), refuse conflicts, record.

    Raises :class:`StoreIdentityError` on a conflict. With ``names`` an AdapterError of a
    store that cannot name itself now is raised; for every channel it is logged and the
    instance's first poll asks again.
    """
    channels = ctx.runtime.channels
    chosen = {name: channels[name] for name in (names if names is not None else channels)}
    found, failed = collect(chosen)
    for name, error in failed.items():
        if names is not None:
            raise AdapterError(f"could not name its store: {error}")
        log.warning(
            "channel %r could not name its store yet (%s); its poll asks again", name, error
        )
    if not found:
        return
    known = {**ctx.store_identities, **found}
    with ctx.db.transaction() as session:
        refuse_conflicts(session, ctx.merchant_id, known)
        record(session, ctx.merchant_id, found, channels.keys())
    ctx.store_identities.update(found)
