"""Where faults happen and requests get logged: an ASGI middleware (HTTP-level faults, also over real HTTP),
an httpx2 transport around ASGITransport (timeouts and connection errors, in-process only), and the queue of
requests telli applies after the client gave up (`applied_late`)."""

from __future__ import annotations

import heapq
import itertools
import json
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

import anyio
import httpx2
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clock import SimClock
from .errors import default_code
from .faults import BODY_KINDS, HTTP_KINDS, TRANSPORT_KINDS, TRICKLE_PAUSE_SECONDS, Fault, FaultQueue
from .request_log import RequestLog

__all__ = ["CONTROL_PREFIX", "FaultMiddleware", "FaultTransport", "LateRequests"]

CONTROL_PREFIX = "/_sim/"
MALFORMED_BODY = b"<html><body><h1>502 Bad Gateway</h1></body></html>"

_transport_fault: ContextVar[str | None] = ContextVar("telli_sim_transport_fault", default=None)
"""Set around a `timeout_after` or `applied_late` request so the middleware logs it as faulted."""
_LATE = "applied_late"


async def _sleep(seconds: float) -> None:
    """Module-level so tests can replace the wall-clock wait of `latency` and `trickle` faults."""
    await anyio.sleep(seconds)


class FaultMiddleware:
    """Applies HTTP-level faults and records every API request (control endpoints are not logged)."""

    def __init__(self, app: ASGIApp, faults: FaultQueue, log: RequestLog) -> None:
        self.app = app
        self._faults = faults
        self._log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        # A late request was faulted already; it must not use up a fault meant for a request sent now.
        late = _transport_fault.get() == _LATE
        fault = None if late else self._faults.take(scope["method"], scope["path"], HTTP_KINDS)
        recorder = _StatusRecorder(send)
        try:
            await self._answer(scope, _replay(body, receive), recorder, fault)
        finally:
            outer = _transport_fault.get()
            headers = dict(scope["headers"])
            self._log.record(
                method=scope["method"],
                path=scope["path"],
                query_string=scope.get("query_string", b""),
                authorization=_header(headers, b"authorization"),
                body=body,
                status=None if outer else recorder.status,
                fault=outer or (fault.kind if fault else None),
                violations=_violations(scope),
            )

    async def _answer(self, scope: Scope, receive: Receive, send: Send, fault: Fault | None) -> None:
        extra = _retry_after(fault)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind == "status":
            assert fault.status is not None
            await _send(send, fault.status, _error_body(scope["path"], fault.status), extra)
        elif fault.kind == "malformed_json":
            await _send(send, 200, MALFORMED_BODY, extra)
        elif fault.kind in BODY_KINDS:
            status, headers, full = await _capture(self.app, scope, receive)
            body, content_type = _changed_body(fault, full)
            if content_type is not None:
                headers = [(name, value) for name, value in headers if name.lower() != b"content-type"]
                headers.append((b"content-type", content_type))
            await _send(send, status, body, extra, headers)
        elif fault.kind == "answer_time":
            started = anyio.current_time()
            status, headers, full = await _capture(self.app, scope, receive)
            await _sleep(max(0.0, fault.latency - (anyio.current_time() - started)))
            await _send(send, status, full, extra, headers)
        elif fault.kind == "trickle":
            status, headers, full = await _capture(self.app, scope, receive)
            await _trickle(send, status, full, headers, fault.latency or TRICKLE_PAUSE_SECONDS)
        else:  # latency
            await _sleep(fault.latency)
            await self.app(scope, receive, send)


class FaultTransport(httpx2.AsyncBaseTransport):
    """httpx2 transport for in-process use: ASGITransport plus timeout and connection faults."""

    def __init__(self, app: ASGIApp, faults: FaultQueue, log: RequestLog, late: LateRequests) -> None:
        self._inner = httpx2.ASGITransport(app=app)
        self._faults = faults
        self._log = log
        self._late = late

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        fault = self._faults.take(request.method, request.url.path, TRANSPORT_KINDS)
        if fault is None:
            return await self._inner.handle_async_request(request)
        if fault.kind == _LATE:
            await self._late.hold(request, fault.latency)
            raise httpx2.ReadTimeout("Simulated read timeout (telli applies the request later)", request=request)
        if fault.kind == "timeout_after":
            token = _transport_fault.set(fault.kind)
            try:
                response = await self._inner.handle_async_request(request)
                await response.aread()
            finally:
                _transport_fault.reset(token)
            raise httpx2.ReadTimeout("Simulated read timeout (the request was processed)", request=request)
        self._log.record(
            method=request.method,
            path=request.url.path,
            query_string=request.url.query,
            authorization=request.headers.get("authorization"),
            body=await request.aread(),
            status=None,
            fault=fault.kind,
        )
        if fault.kind == "connect_error":
            raise httpx2.ConnectError("Simulated connection failure", request=request)
        raise httpx2.ReadTimeout("Simulated read timeout (the request was not processed)", request=request)


@dataclass(order=True)
class _Held:
    due: datetime
    seq: int
    request: httpx2.Request = field(compare=False)


class LateRequests:
    """Requests telli received but applies only later (`applied_late` faults), in the order they fall due."""

    def __init__(self, app: ASGIApp, clock: SimClock) -> None:
        self._inner = httpx2.ASGITransport(app=app)
        self._clock = clock
        self._held: list[_Held] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._held)

    async def hold(self, request: httpx2.Request, delay: float) -> None:
        """Keep a copy of `request` (the client's own may be closed by then) to apply `delay` s from now."""
        body = await request.aread()
        copy = httpx2.Request(request.method, request.url, headers=request.headers, content=body)
        due = self._clock.now() + timedelta(seconds=delay)
        heapq.heappush(self._held, _Held(due, next(self._seq), copy))

    def next_due(self, until: datetime) -> datetime | None:
        """When the earliest held request falls due, if that is at or before `until`."""
        return self._held[0].due if self._held and self._held[0].due <= until else None

    async def apply_next(self) -> None:
        """Apply the earliest held request now (through the app, so it is validated and logged)."""
        held = heapq.heappop(self._held)
        token = _transport_fault.set(_LATE)
        try:
            response = await self._inner.handle_async_request(held.request)
            await response.aread()
        finally:
            _transport_fault.reset(token)


class _StatusRecorder:
    """Passes messages through and remembers the response status."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self._send(message)


def _error_body(path: str, status: int) -> bytes:
    try:
        message = HTTPStatus(status).phrase
    except ValueError:
        message = "Error"
    body: dict[str, Any] = {"message": message}
    if path.startswith("/v2/"):
        body = {"code": default_code(status), "message": message}
    return json.dumps(body).encode()


def _changed_body(fault: Fault, full: bytes) -> tuple[bytes, bytes | None]:
    """The answer body a body fault sends instead of `full`, and its new content type (None: unchanged)."""
    if fault.kind == "truncated":
        return full[: len(full) // 2], None
    if fault.kind == "empty_body":
        return b"", None
    if fault.kind == "text_body":
        return b"OK", b"text/plain; charset=utf-8"
    try:
        parsed = json.loads(full)
    except ValueError:
        return full, None
    for edit in fault.edits:
        parsed = edit.apply(parsed)
    return json.dumps(parsed).encode(), None


def _retry_after(fault: Fault | None) -> list[tuple[bytes, bytes]]:
    if fault is None or fault.retry_after is None:
        return []
    seconds = fault.retry_after
    text = str(int(seconds)) if seconds == int(seconds) else str(seconds)
    return [(b"retry-after", text.encode())]


async def _send(
    send: Send,
    status: int,
    body: bytes,
    extra: list[tuple[bytes, bytes]],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    base = [(name, value) for name, value in headers or [] if name.lower() != b"content-length"]
    if headers is None:
        base = [(b"content-type", b"application/json")]
    base += [(b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": base})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _trickle(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], pause: float) -> None:
    """The answer with its headers at once, then its body a byte at a time, `pause` seconds apart."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    for index in range(len(body)):
        await send({"type": "http.response.body", "body": body[index : index + 1], "more_body": True})
        await _sleep(pause)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    status = 500
    headers: list[tuple[bytes, bytes]] = []
    chunks: list[bytes] = []

    async def collect(message: Message) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, collect)
    return status, headers, b"".join(chunks)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive callable that hands the already-read body to the app once, then defers to the original."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _violations(scope: Scope) -> tuple[str, ...]:
    """The contract violations the endpoint found (it leaves them on the request state), as `field: message`."""
    found = scope.get("state", {}).get("contract_violations", ())
    return tuple(f"{violation.field}: {violation.message}" for violation in found)


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")
