"""Stripe's request decoding: bracketed form bodies, typed parameters, metadata rules."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl


class StripeApiError(Exception):
    """An error response in Stripe's shape; ``saved`` says whether idempotency keeps it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = False,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.saved = saved
        body: dict[str, Any] = {"type": type_, "message": message}
        if code:
            body["code"] = code
            body["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            body["param"] = param
        body.update(extra)
        self.body = {"error": body}


def parse_form(body: bytes) -> dict[str, Any]:
    """Decode a form body the way Stripe does: ``a[b][c]=v`` nests, ``a[0]=v`` lists.

    Raises:
        StripeApiError: the body is not form-encoded text.
    """
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise StripeApiError(400, "Invalid request body: not UTF-8 form data.") from exc
    params: dict[str, Any] = {}
    for raw_key, value in pairs:
        head, *rest = re.split(r"\[", raw_key, maxsplit=0)
        path = [head] + [part.rstrip("]") for part in rest]
        node: dict[str, Any] = params
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise StripeApiError(400, f"Invalid nesting in parameter: {raw_key}", param=head)
            node = child
        node[path[-1]] = value
    return {key: _listify(value) for key, value in params.items()}


def _listify(value: Any) -> Any:
    """Turn ``{"0": a, "1": b}`` (from ``x[0]=a&x[1]=b``) into ``[a, b]``."""
    if not isinstance(value, dict):
        return value
    converted = {key: _listify(item) for key, item in value.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def _bool_param(params: Mapping[str, Any], name: str) -> bool:
    value = params.get(name, "false")
    if value in ("true", "false"):
        return value == "true"
    if name == "off_session" and value in ("one_off", "recurring"):
        return True
    raise StripeApiError(400, f"Invalid boolean: {value}", code="parameter_invalid_boolean",
                         param=name)  # fmt: skip


def _int_param(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeApiError(400, f"Invalid integer: {value}", code="parameter_invalid_integer",
                             param=name)  # fmt: skip
    return int(value)


def _check_known(params: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for name in params:
        if name not in allowed:
            raise StripeApiError(400, f"Received unknown parameter: {name}",
                                 code="parameter_unknown", param=name)  # fmt: skip


def _metadata(params: Mapping[str, Any]) -> dict[str, str]:
    value = params.get("metadata", {})
    if value == "":
        return {}
    if not isinstance(value, dict) or any(not isinstance(v, str) for v in value.values()):
        raise StripeApiError(400, "Invalid metadata: must be a hash of strings.", param="metadata")
    if len(value) > 50:
        raise StripeApiError(400, "Invalid metadata: at most 50 keys.", param="metadata")
    for key, item in value.items():
        if len(key) > 40:
            raise StripeApiError(400, f"Metadata key {key!r} is longer than 40 characters.",
                                 param=f"metadata[{key}]")  # fmt: skip
        if len(item) > 500:
            raise StripeApiError(400, f"Metadata value for {key!r} is longer than 500 "
                                 "characters.", param=f"metadata[{key}]")  # fmt: skip
    return dict(value)
