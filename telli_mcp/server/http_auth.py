"""Who may act with which telli key over HTTP: checked at the edge, before any MCP message is read.

Every request either brings its own telli key as `Authorization: Bearer <key>` or, where the operator allows
it (`TELLI_MCP_SERVER_KEY_OVER_HTTP`), brings no `Authorization` header at all and acts with the server's
`TELLI_API_KEY`. Anything else (another scheme, a bare key, an empty or repeated header) is refused with 401
and a `WWW-Authenticate` challenge: falling back to the server's key there would hand one caller's mistake
the operator's account.

The one exception is the health probe (`GET /healthz`): load balancers and orchestrators call it without
credentials, and it answers from this process alone, never asking telli.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from telli_mcp.client import key_fingerprint
from telli_mcp.config import ServerKeyUse, Settings

__all__ = [
    "HEALTH_PATH",
    "KeyVerdicts",
    "KeyVerifier",
    "MalformedAuthorization",
    "RequireCallerKey",
    "anonymous_may_use_server_key",
    "bearer_key",
    "is_loopback",
]

HEALTH_PATH: Final = "/healthz"
"""The health probe's path: the only one served without a caller's key (it uses none)."""

# RFC 6750 b64token: what a bearer credential may consist of (no spaces, no control characters).
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_CHALLENGE = 'Bearer realm="telli-mcp"'


class MalformedAuthorization(ValueError):
    """An `Authorization` header that is not exactly `Bearer <token>`."""


def bearer_key(values: Iterable[str]) -> str | None:
    """The telli key in the request's `Authorization` header values; None when there is none.

    Raises `MalformedAuthorization` for any other scheme, an empty token, or more than one header.
    """
    values = list(values)
    if not values:
        return None
    if len(values) > 1:
        raise MalformedAuthorization("send one Authorization header, not several")
    scheme, _, token = values[0].strip().partition(" ")
    if scheme.lower() != "bearer":
        raise MalformedAuthorization("use 'Authorization: Bearer <telli API key>' (no other scheme is accepted)")
    token = token.strip()
    if not _TOKEN.fullmatch(token):
        raise MalformedAuthorization("the bearer token is empty or has characters a telli key never has")
    return token


def is_loopback(host: str) -> bool:
    """True for a bind address only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def anonymous_may_use_server_key(settings: Settings, host: str) -> bool:
    """The one decision whether a request without `Authorization` may act with TELLI_API_KEY."""
    if settings.api_key is None:
        return False
    if settings.server_key_over_http is ServerKeyUse.AUTO:
        return is_loopback(host)
    return settings.server_key_over_http is ServerKeyUse.ALLOW


KeyVerifier = Callable[[str], Awaitable[bool | None]]
"""telli's verdict on a key: True accepted, False rejected, None unknown (telli did not answer clearly)."""


class KeyVerdicts:
    """telli's verdicts on the keys requests bring, remembered for a while so a request costs no extra round trip.

    A rejected key is answered with 401 at the door, where an MCP client can ask its user for a new one, instead
    of a tool error later. An accepted verdict is kept for `accepted_for` seconds, a rejection for `rejected_for`
    (a key fixed in the telli app works again soon); an unknown verdict is not kept and lets the request in (the
    tools then report what telli says). Keys are remembered by fingerprint only, at most `limit` of them.
    """

    def __init__(
        self,
        verify: KeyVerifier,
        *,
        accepted_for: float = 300.0,
        rejected_for: float = 30.0,
        limit: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._verify = verify
        self._accepted_for, self._rejected_for, self._limit, self._clock = accepted_for, rejected_for, limit, clock
        self._verdicts: OrderedDict[str, tuple[bool, float]] = OrderedDict()

    async def rejected(self, key: str) -> bool:
        tenant = key_fingerprint(key)
        known = self._verdicts.get(tenant)
        if known is not None and known[1] > self._clock():
            return not known[0]
        verdict = await self._verify(key)
        if verdict is None:
            return False
        self._verdicts[tenant] = (verdict, self._clock() + (self._accepted_for if verdict else self._rejected_for))
        self._verdicts.move_to_end(tenant)
        while len(self._verdicts) > self._limit:
            self._verdicts.popitem(last=False)
        return not verdict


class RequireCallerKey:
    """ASGI middleware: pass a request on only when it carries a well-formed bearer key that telli has not rejected,
    or no key where the server's own may be used (and telli has not rejected that one either)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allow_anonymous: bool,
        server_key: str | None = None,
        verdicts: KeyVerdicts | None = None,
    ) -> None:
        self.app = app
        self.allow_anonymous = allow_anonymous
        self._server_key = server_key
        self._verdicts = verdicts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == HEALTH_PATH:
            await self.app(scope, receive, send)
            return
        values = [value.decode("latin-1") for name, value in scope["headers"] if name.lower() == b"authorization"]
        try:
            key = bearer_key(values)
        except MalformedAuthorization as err:
            await _refuse(send, "invalid_request", str(err))
            return
        if key is None and not self.allow_anonymous:
            await _refuse(send, None, "this server needs your telli API key: send 'Authorization: Bearer <key>'")
            return
        acting = key if key is not None else self._server_key
        if acting is not None and self._verdicts is not None and await self._verdicts.rejected(acting):
            whose = "the telli key in the Authorization header" if key is not None else "this server's telli key"
            await _refuse(send, "invalid_token", f"telli rejected {whose}; use a current key from the telli app")
            return
        await self.app(scope, receive, send)


async def _refuse(send: Send, error: str | None, detail: str) -> None:
    challenge = _CHALLENGE if error is None else f'{_CHALLENGE}, error="{error}"'
    body = json.dumps({"error": error or "unauthorized", "error_description": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", challenge.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
