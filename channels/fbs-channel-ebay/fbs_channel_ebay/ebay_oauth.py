"""eBay OAuth: user access tokens from the refresh token, application tokens for keys.

eBay's refresh-token grant (developer.ebay.com "Using a refresh token to update a User
access token"): ``POST /identity/v1/oauth2/token`` with ``Authorization: Basic
base64(client_id:client_secret)`` and the form ``grant_type=refresh_token``,
``refresh_token`` and ``scope``; the answer is ``{"access_token", "expires_in",
"token_type"}``. A revoked or expired refresh token is answered 400 ``invalid_grant``;
wrong application keys 401 ``invalid_client``. The client-credentials grant
(``grant_type=client_credentials``) gives the application token the Notification API's
public-key call needs.

The user token and its expiry are kept in the instance's durable state
(``access_token``, ``access_token_expires_at``), so a restart does not mint a new one; the
``_token`` suffix makes the core mask the value wherever it could be shown. Token values
never reach a log record or an error message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from fbs_core.errors import AuthError, RetriableError
from fbs_core.remote_calls import remote_call

ACCESS_TOKEN_KEY = "access_token"
EXPIRES_AT_KEY = "access_token_expires_at"
REFRESH_MARGIN = timedelta(minutes=5)
"""A token this close to its expiry is refreshed before it is used."""


@dataclass(frozen=True)
class AccessToken:
    """One OAuth access token and when eBay stops accepting it."""

    value: str
    expires_at: datetime

    def usable(self, now: datetime) -> bool:
        """True while the token has more than the refresh margin left."""
        return self.expires_at - REFRESH_MARGIN > now


class TokenKeeper:
    """Hands out a valid user access token, refreshing it from the refresh token.

    Thread-safe: one refresh at a time; workers that find a fresh token use it.
    """

    def __init__(
        self,
        http: httpx.Client,
        token_url: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        scopes: tuple[str, ...],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._http = http
        self._token_url = token_url
        self._basic = (client_id, client_secret)
        self._refresh_token = refresh_token
        self._scopes = scopes
        self._clock = clock
        self._lock = threading.Lock()
        self._user: AccessToken | None = None
        self._application: dict[str, AccessToken] = {}
        self.refreshes = 0
        """User tokens minted by this keeper (for ``check`` and tests)."""

    def load(self, state: Mapping[str, str]) -> None:
        """Take the token a previous poll stored, unless this keeper holds a newer one."""
        value, expires = state.get(ACCESS_TOKEN_KEY), state.get(EXPIRES_AT_KEY)
        if not value or not expires:
            return
        try:
            stored = AccessToken(value, datetime.fromisoformat(expires))
        except ValueError:
            return
        with self._lock:
            if self._user is None or stored.expires_at > self._user.expires_at:
                self._user = stored

    def state(self) -> dict[str, str]:
        """The current token as durable state (empty before the first refresh)."""
        with self._lock:
            token = self._user
        if token is None:
            return {}
        return {ACCESS_TOKEN_KEY: token.value, EXPIRES_AT_KEY: token.expires_at.isoformat()}

    def user_token(self) -> str:
        """A user access token with more than the refresh margin left."""
        with self._lock:
            if self._user is None or not self._user.usable(self._clock()):
                self._user = self._grant(
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": self._refresh_token,
                        "scope": " ".join(self._scopes),
                    }
                )
                self.refreshes += 1
            return self._user.value

    def refused(self, value: str) -> None:
        """EBay refused ``value`` (401): forget it so the next call refreshes."""
        with self._lock:
            if self._user is not None and self._user.value == value:
                self._user = None

    def application_token(self, scope: str) -> str:
        """An application access token (client-credentials grant) for ``scope``."""
        with self._lock:
            token = self._application.get(scope)
            if token is None or not token.usable(self._clock()):
                token = self._grant({"grant_type": "client_credentials", "scope": scope})
                self._application[scope] = token
            return token.value

    def _grant(self, form: dict[str, str]) -> AccessToken:
        grant = form["grant_type"]
        with remote_call("eBay", "a token grant"):
            response = self._http.post(self._token_url, data=form, auth=self._basic)
        body = _json_object(response)
        if response.status_code == 200 and isinstance(body.get("access_token"), str):
            lifetime = body.get("expires_in")
            seconds = int(lifetime) if isinstance(lifetime, int | float) else 7200
            return AccessToken(
                str(body["access_token"]), self._clock() + timedelta(seconds=seconds)
            )
        error = str(body.get("error") or "")
        if response.status_code == 429 or response.status_code >= 500:
            raise RetriableError(
                f"eBay's token endpoint answered {response.status_code}",
                code="rate_limited" if response.status_code == 429 else "upstream_unavailable",
            )
        if error == "invalid_grant" and grant == "refresh_token":
            raise AuthError(
                "eBay refused the refresh token (invalid_grant): it was revoked or has "
                "expired; have the seller grant access again and set a new refresh_token",
                code="refresh_token_revoked",
            )
        if error == "invalid_client" or response.status_code == 401:
            raise AuthError(
                "eBay refused the application keys (invalid_client): check client_id and "
                "client_secret and the environment they belong to"
            )
        if error == "invalid_scope":
            raise AuthError(
                "eBay refused the scope: the refresh token was not minted with "
                f"{' '.join(self._scopes) if grant == 'refresh_token' else form['scope']}"
            )
        raise AuthError(
            f"eBay's token endpoint answered {response.status_code} {error or ''}".strip()
        )


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
