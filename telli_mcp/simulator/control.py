"""Unauthenticated control endpoints under /_sim/ for out-of-process tests, demos and benchmarks."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .clock import SimClock
from .faults import HTTP_KINDS, Fault
from .request_log import LoggedRequest
from .views import iso

__all__ = ["Controllable", "routes"]

_FAULT_FIELDS = frozenset(field.name for field in dataclasses.fields(Fault))


class Controllable(Protocol):
    clock: SimClock
    request_log: list[LoggedRequest]

    async def advance(self, delta: timedelta | float) -> None: ...
    def inject(self, fault: Fault) -> None: ...
    def clear_faults(self) -> None: ...


def routes(sim: Controllable) -> list[Route]:
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "now": iso(sim.clock.now())})

    async def advance(request: Request) -> Response:
        body = await _json(request)
        seconds = body.get("seconds") if isinstance(body, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            return _error("seconds must be a non-negative number")
        await sim.advance(float(seconds))
        return JSONResponse({"now": iso(sim.clock.now())})

    async def add_fault(request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict) or not set(body) <= _FAULT_FIELDS:
            return _error(f"a fault is an object with some of the fields {sorted(_FAULT_FIELDS)}")
        if body.get("kind", "status") not in HTTP_KINDS:
            return _error(f"over HTTP only these kinds work: {sorted(HTTP_KINDS)}")
        try:
            sim.inject(Fault(**body))
        except (TypeError, ValueError) as error:
            return _error(str(error))
        return JSONResponse({"status": "queued"}, status_code=201)

    async def clear_faults(request: Request) -> Response:
        sim.clear_faults()
        return Response(status_code=204)

    async def requests(request: Request) -> Response:
        return JSONResponse({"requests": [entry.to_json() for entry in sim.request_log]})

    return [
        Route("/_sim/health", health, methods=["GET"]),
        Route("/_sim/advance", advance, methods=["POST"]),
        Route("/_sim/faults", add_fault, methods=["POST"]),
        Route("/_sim/faults", clear_faults, methods=["DELETE"]),
        Route("/_sim/requests", requests, methods=["GET"]),
    ]


async def _json(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None


def _error(message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=400)
