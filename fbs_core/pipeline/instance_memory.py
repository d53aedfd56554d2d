"""An instance's durable key-value state as the core handles it around a poll.

The state is loaded into ``Adapter.state`` before each poll and the batch's updates are
merged into it in the poll's own transaction. Values under secret keys (see
``Adapter.is_secret_state_key``) are redacted from the adapter's log records and from
every error the core records, so a refresh token never reaches a log or ``last_error``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from ..adapters import MASK, Adapter


def secret_values(adapter: Adapter, extra: Mapping[str, str] | None = None) -> set[str]:
    """The secret values of ``adapter``'s state and of the updates ``extra``."""
    items = list(adapter.state.items()) + list((extra or {}).items())
    return {value for key, value in items if value and adapter.is_secret_state_key(key)}


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by the mask, longest first."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class SecretRedactor(logging.Filter):
    """Masks an adapter's secret state values in the records its logger emits."""

    def __init__(self, adapter: Adapter) -> None:
        super().__init__()
        self.adapter = adapter
        self.pending: set[str] = set()
        """Secrets a poll returned that are not in ``adapter.state`` yet."""

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102
        secrets = secret_values(self.adapter) | self.pending
        if not secrets:
            return True
        record.msg = redact(record.getMessage(), secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets)
        return True


def redactor(adapter: Adapter) -> SecretRedactor:
    """The redacting filter on ``adapter.log``, installed on first use."""
    for existing in adapter.log.filters:
        if isinstance(existing, SecretRedactor) and existing.adapter is adapter:
            return existing
    installed = SecretRedactor(adapter)
    adapter.log.addFilter(installed)
    return installed


def load(adapter: Adapter, stored: Mapping[str, str] | None) -> None:
    """Give ``adapter`` its stored state, read-only, for the poll about to run."""
    adapter.state = MappingProxyType(dict(stored or {}))


def merged(stored: Mapping[str, str] | None, updates: Mapping[str, str] | None) -> dict[str, str]:
    """The state after a poll's ``updates``: keys not named keep their value."""
    return {**(stored or {}), **(updates or {})}
