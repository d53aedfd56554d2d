"""PaymentIntent search, for one clause of Stripe's search query language.

``metadata['key']:'value'`` (exact match; single or double quotes, a backslash escapes the
next character); any other query gets Stripe's 400. Unlike Stripe, new objects are
searchable at once.
"""

from __future__ import annotations

import re
from copy import deepcopy
from typing import Any

from starlette.requests import Request

from ._form import StripeApiError, _check_known, _int_param
from ._state import _State

_SEARCH_PARAMS = frozenset({"query", "limit", "page", "expand"})
_QUOTED = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_METADATA_CLAUSE = re.compile(rf"\s*metadata\[(?P<key>{_QUOTED})\]:(?P<value>{_QUOTED})\s*")


class _Search:
    """``GET /v1/payment_intents/search``, called with the lock held."""

    _state: _State

    def _search_payment_intents(self, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        _check_known(params, _SEARCH_PARAMS)
        query = params.get("query")
        if not query:
            raise StripeApiError(400, "Missing required param: query.",
                                 code="parameter_missing", param="query")  # fmt: skip
        key, value = _metadata_clause(query)
        matches = [
            s.intent for s in reversed(self._state.intents.values())
            if s.intent["metadata"].get(key) == value
        ]  # fmt: skip
        limit = _int_param(params, "limit") or 10
        if not 1 <= limit <= 100:
            raise StripeApiError(400, "Invalid limit: must be between 1 and 100",
                                 param="limit")  # fmt: skip
        page = params.get("page", "0")
        if not page.isdigit() or int(page) > len(matches):
            raise StripeApiError(400, f"Invalid page: {page}", param="page")
        start = int(page)
        has_more = len(matches) > start + limit
        return {
            "object": "search_result",
            "data": deepcopy(matches[start : start + limit]),
            "has_more": has_more,
            "next_page": str(start + limit) if has_more else None,
            "url": request.url.path,
        }


def _metadata_clause(query: str) -> tuple[str, str]:
    """Read ``metadata['key']:'value'``, the one query form this imitation searches by.

    Raises:
        StripeApiError: 400, for any other query.
    """
    match = _METADATA_CLAUSE.fullmatch(query)
    if match is None:
        raise StripeApiError(
            400,
            f"The query `{query}` is not supported here: only one clause of the form "
            "metadata['key']:'value' can be searched.",
            code="parameter_invalid_string",
            param="query",
        )
    return _unquote(match["key"]), _unquote(match["value"])


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", r"\1", quoted[1:-1])
