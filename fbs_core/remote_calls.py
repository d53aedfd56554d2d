"""One meaning for a remote call that never got an answer, whichever plugin made it.

A plugin wraps each HTTP call in :func:`remote_call`; a timeout becomes a
:class:`~fbs_core.errors.RetriableError` coded ``timeout`` and any other transport failure
(refused, reset, DNS) one coded ``connection_failed``, each naming the remote and the call.
Merchants and status displays then see the same two codes for every store, warehouse and
gateway, and the core retries both with backoff.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from .errors import RetriableError

TIMEOUT = "timeout"
CONNECTION_FAILED = "connection_failed"


@contextmanager
def remote_call(remote: str, call: str) -> Iterator[None]:
    """Raise a retriable error naming ``remote`` and ``call`` if no answer came back."""
    try:
        yield
    except httpx.TimeoutException:
        raise RetriableError(f"{remote} did not answer {call} in time", code=TIMEOUT) from None
    except httpx.TransportError as exc:
        raise RetriableError(
            f"could not reach {remote} for {call} ({type(exc).__name__})", code=CONNECTION_FAILED
        ) from None
