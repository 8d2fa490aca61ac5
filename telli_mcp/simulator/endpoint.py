"""The glue between Starlette and the route handlers: auth, body parsing, error rendering per API version."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from telli_mcp.contract import check_request

from .accounts import AccountRegistry, key_from_authorization
from .clock import SimClock
from .dialer import Dialer
from .errors import ApiError, contract_error
from .store import Account
from .validation import BodyReader

__all__ = ["ApiRequest", "Backend", "Version", "error_response", "json_response", "make_route"]

Version = Literal["v1", "v2"]


THREADED_CHECK_BYTES = 16_384
"""Bodies from this size on are checked against the contract in a worker thread when `threaded_checks` is set
(a 1000-contact batch takes ~100 ms of jsonschema; smaller bodies take less than the hop to a thread)."""


@dataclass(frozen=True)
class Backend:
    """What route handlers may touch."""

    registry: AccountRegistry
    dialer: Dialer
    clock: SimClock
    threaded_checks: bool = False
    """Check large bodies off the event loop (served: see `TelliSimulator`)."""


@dataclass(frozen=True)
class ApiRequest:
    """One authenticated request, as handlers see it."""

    request: Request
    account: Account
    backend: Backend

    def path_param(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    async def body(self) -> BodyReader:
        return BodyReader(await self.json())

    async def json(self) -> Any:
        raw = await self.request.body()
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise ApiError(400, "Request body is not valid JSON") from None


Handler = Callable[[ApiRequest], Awaitable[Response]]


def json_response(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(content, status_code=status)


def error_response(error: ApiError, version: Version) -> JSONResponse:
    body = error.v1_body() if version == "v1" else error.v2_body()
    return JSONResponse(body, status_code=error.status)


def make_route(path: str, method: str, handler: Handler, *, version: Version, backend: Backend) -> Route:
    """A Starlette route that authenticates, runs `handler` and renders ApiErrors in the version's shape."""

    async def endpoint(request: Request) -> Response:
        try:
            account = _authenticate(request, backend.registry)
            await _enforce_contract(request, threaded=backend.threaded_checks)
            return await handler(ApiRequest(request, account, backend))
        except ApiError as error:
            return error_response(error, version)

    return Route(path, endpoint, methods=[method])


async def _enforce_contract(request: Request, *, threaded: bool) -> None:
    """Reject a request that breaks telli's documented contract before any state changes.

    The violations are also left on the request's state, so the request log can tell a contract rejection
    from a 400 that telli would give for a valid request (such as removing a contact that is not in the dialer).
    With `threaded`, a large body is checked in a worker thread, so requests in flight meanwhile are answered
    as telli's servers would answer them, instead of all waiting for one batch's check.
    """
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    body = await request.body()
    check_this = partial(
        check_request,
        request.method,
        raw_path.split(b"?", 1)[0].decode("latin-1"),
        request.query_params.multi_items(),
        request.headers.get("content-type"),
        body,
    )
    if threaded and len(body) >= THREADED_CHECK_BYTES:
        check = await anyio.to_thread.run_sync(check_this)
    else:
        check = check_this()
    if check.ok:
        return
    request.state.contract_violations = check.violations
    raise contract_error(check.violations)


def _authenticate(request: Request, registry: AccountRegistry) -> Account:
    header = request.headers.get("authorization")
    if key_from_authorization(header) is None:
        raise ApiError(401, "Missing API key", "UNAUTHORIZED")
    account = registry.for_authorization(header)
    if account is None:
        raise ApiError(401, "Invalid API key", "UNAUTHORIZED")
    return account
