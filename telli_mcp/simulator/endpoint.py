"""The glue between Starlette and the route handlers: auth, body parsing, error rendering per API version."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .accounts import AccountRegistry, key_from_authorization
from .clock import SimClock
from .dialer import Dialer
from .errors import ApiError
from .store import Account
from .validation import BodyReader

__all__ = ["ApiRequest", "Backend", "Version", "error_response", "json_response", "make_route"]

Version = Literal["v1", "v2"]


@dataclass(frozen=True)
class Backend:
    """What route handlers may touch."""

    registry: AccountRegistry
    dialer: Dialer
    clock: SimClock


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
            return await handler(ApiRequest(request, account, backend))
        except ApiError as error:
            return error_response(error, version)

    return Route(path, endpoint, methods=[method])


def _authenticate(request: Request, registry: AccountRegistry) -> Account:
    header = request.headers.get("authorization")
    if key_from_authorization(header) is None:
        raise ApiError(401, "Missing API key", "UNAUTHORIZED")
    account = registry.for_authorization(header)
    if account is None:
        raise ApiError(401, "Invalid API key", "UNAUTHORIZED")
    return account
