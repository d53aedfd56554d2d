"""WordPress's REST error body, ``{"code", "message", "data": {"status"}}``, for every error."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

_DEFAULT_ERROR_CODES = {
    400: "rest_invalid_param",
    401: "woocommerce_rest_authentication_error",
    403: "woocommerce_rest_cannot_view",
    404: "rest_no_route",
    429: "too_many_requests",
    500: "internal_server_error",
    502: "bad_gateway",
    503: "service_unavailable",
}


def _error(status: int, code: str, message: str, **data: Any) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": message, "data": {"status": status, **data}}, status_code=status
    )


def _no_route() -> JSONResponse:
    return _error(404, "rest_no_route", "No route was found matching the URL and request method.")


def _invalid_param(name: str, reason: str) -> JSONResponse:
    return _error(400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: reason})
