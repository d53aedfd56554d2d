"""Errors shared by the core and by plugins.

Adapters map every remote failure to one of three families so the pipeline can decide
what happens next without knowing the remote service:

* :class:`RetriableError`: try again later (5xx, 429, timeouts, connection resets).
* :class:`FatalError`: retrying the same request will not help; the order is held with
  the error's ``code`` and message so the merchant can act (4xx, validation failures).
* :class:`AuthError`: credentials are wrong or expired; a kind of fatal error that names
  the instance to fix.

Payment declines and supplier refusals are fatal errors with their own codes.
"""

from __future__ import annotations


class FbsError(Exception):
    """Base class of every error fbs raises on purpose."""


class ConfigError(FbsError):
    """The merchant's configuration is wrong; the message says where and how to fix it."""


class UserError(FbsError):
    """A command-line user asked for something impossible (unknown order id, bad state)."""


class AdapterError(FbsError):
    """A plugin adapter could not complete a call to its remote service."""

    code: str = "upstream_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class RetriableError(AdapterError):
    """A transient failure: the same call may succeed later.

    Args:
        message: what went wrong, in a sentence a merchant can read.
        retry_after: seconds the remote asked us to wait (``Retry-After``), if any.
        code: a short machine code, e.g. ``rate_limited`` or ``upstream_unavailable``.
    """

    code = "upstream_unavailable"

    def __init__(
        self, message: str, *, retry_after: float | None = None, code: str | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class FatalError(AdapterError):
    """A permanent failure for this request; retrying it unchanged will not help."""

    code = "upstream_rejected"


class AuthError(FatalError):
    """The remote refused our credentials (HTTP 401/403 or equivalent)."""

    code = "auth_failed"


class PaymentDeclined(FatalError):
    """The merchant's card was declined or needs the cardholder (3-D Secure).

    ``code`` is ``card_declined``, ``authentication_required`` or the gateway's decline code.
    """

    code = "payment_declined"


class OutOfStock(FatalError):
    """A supplier refused a purchase order (or some lines of it) for lack of stock.

    Args:
        message: the supplier's explanation.
        skus: the part numbers it cannot supply; empty means the whole order.
    """

    code = "no_stock"

    def __init__(self, message: str, *, skus: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.skus = skus
