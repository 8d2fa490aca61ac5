"""The streamable HTTP app, with legacy-era sessions that a flood cannot exhaust.

Legacy-era (2025-11-25) clients open a session with `initialize` and keep it until they delete it or it
expires. The SDK caps the session table and refuses new sessions with 503 once it is full, so anyone who can
send `initialize` a few thousand times locks every new legacy client out until the idle timeout. Here, when
the table is full, a new session is admitted by closing another one instead:

* never a session with a request in flight (a tool call, a pending confirmation question);
* idle sessions (nothing in flight) before sessions whose client only holds its notification stream (GET)
  open, since a client that went away leaves an idle session and a connected one keeps its stream;
* within that, the session of the caller (credential) holding the most sessions, least recently active first,
  so a flood mostly closes the flooder's own sessions.

Only when every session has a request in flight is a new one refused (503 with Retry-After). Each session is
bound to the credential that opened it (a fingerprint of the bearer key, or the server key for requests
without `Authorization`): the session's id used with another credential answers 404, as an unknown id does.
Idle sessions expire after `TELLI_MCP_SESSION_IDLE_SECONDS` (the SDK's own idle timer).

The 2026-07-28 era is stateless: the SDK serves those requests before any session logic, so none of this
touches them.

This is the one module that reaches into the SDK's private parts (`StreamableHTTPSessionManager`'s session
table and its admission steps). `sdk_shape_problems()` lists what it relies on; the manager refuses to start
if any of it is missing, and `tests/evidence/test_evidence_sessions.py` checks it, so an SDK upgrade that
changes them fails loudly instead of silently dropping the bounds.
"""

from __future__ import annotations

import inspect
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, Literal

import anyio
from mcp.server import streamable_http_manager as _sdk_manager
from mcp.server.lowlevel.server import Server
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER, StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from mcp_types import INTERNAL_ERROR
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from telli_mcp.client import key_fingerprint
from telli_mcp.config import Settings
from telli_mcp.server.http_auth import HEALTH_PATH, MalformedAuthorization, bearer_key

__all__ = [
    "RETRY_AFTER_SECONDS",
    "SERVER_KEY_OWNER",
    "BoundedSessionManager",
    "SessionView",
    "sdk_shape_problems",
    "streamable_app",
]

logger = logging.getLogger("telli_mcp.sessions")

SERVER_KEY_OWNER: Final = "server key"
"""The owner of sessions opened without `Authorization` (they act with TELLI_API_KEY)."""

RETRY_AFTER_SECONDS: Final = 5
"""Retry-After on the 503 when every session has a request in flight: requests end within the tool deadline,
and one ending is enough to make room."""

MCP_PATH: Final = "/mcp"

SessionState = Literal["busy", "streaming", "idle"]


@dataclass
class _Session:
    owner: str
    last_active: float
    requests: int = 1
    """Requests in flight other than GET streams; 1 at admission, for the `initialize` that opens it."""
    streams: int = 0
    """Open GET streams (the client's channel for server notifications)."""

    @property
    def state(self) -> SessionState:
        if self.requests:
            return "busy"
        return "streaming" if self.streams else "idle"


@dataclass(frozen=True)
class SessionView:
    """One open legacy-era session, as an operator (or a test) sees it."""

    session_id: str
    owner: str
    """`SERVER_KEY_OWNER` or the fingerprint of the bearer key that opened it, never the key."""
    state: SessionState


class BoundedSessionManager(StreamableHTTPSessionManager):
    """The SDK's session manager with a cap that evicts instead of refusing, and sessions bound to a credential."""

    def __init__(self, app: Server[Any], *, max_sessions: int, **kwargs: Any) -> None:
        problems = sdk_shape_problems()
        if problems:
            raise RuntimeError(
                "the installed mcp SDK changed what telli_mcp.server.sessions relies on: " + "; ".join(problems)
            )
        super().__init__(app, max_sessions=max_sessions, **kwargs)
        self.session_cap = max_sessions
        self._sessions: dict[str, _Session] = {}
        self._held: Counter[str] = Counter()
        self._security_check = TransportSecurityMiddleware(self.security_settings)

    @property
    def open_sessions(self) -> int:
        """Sessions in the SDK's table (what holds memory)."""
        return len(self._server_instances)

    def sessions(self) -> list[SessionView]:
        """A snapshot of the open sessions (safe to take from another thread, as tests and tools do)."""
        return [SessionView(sid, s.owner, s.state) for sid, s in list(self._sessions.items())]

    # --- request handling (overrides the SDK's private dispatch for legacy-era requests) -----------------------

    async def _handle_stateful_request(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        try:
            owner = owner_of(headers.getlist("authorization"))
        except MalformedAuthorization:
            # RequireCallerKey refuses these before they get here; without it, never guess an owner.
            await _sdk_manager._error_response("Malformed Authorization header", 401)(scope, receive, send)
            return
        session_id = headers.get(MCP_SESSION_ID_HEADER)
        if session_id is None:
            await self._open_session(owner, scope, receive, send)
            return
        session = self._sessions.get(session_id)
        if session is not None and session.owner != owner:
            logger.warning("Refusing a request for session %s made with another credential", session_id[:64])
            await _sdk_manager._error_response("Session not found", 404)(scope, receive, send)
            return
        if session is None:
            await super()._handle_stateful_request(scope, receive, send)  # unknown or expired: the SDK's 404
            return
        with self._in_flight(session, send, stream=scope["method"] == "GET") as answer:
            await super()._handle_stateful_request(scope, receive, answer)

    async def _open_session(self, owner: str, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            # Only a POST (initialize) can open a session: leave the SDK to refuse the rest, never evict for them.
            await super()._handle_stateful_request(scope, receive, send)
            return
        # Host/Origin/Content-Type are checked again by the transport; checking first means a request that will be
        # refused anyway never closes someone's session to make room.
        refused = await self._security_check.validate_request(Request(scope, receive), is_post=True)
        if refused is not None:
            await refused(scope, receive, send)
            return
        transport = self._admit(owner)
        if transport is None:
            logger.warning("Refusing a new session: all %d sessions have a request in flight", self.session_cap)
            response = _sdk_manager._error_response("Too many open sessions", 503, INTERNAL_ERROR)
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            await response(scope, receive, send)
            return
        session = self._sessions[_session_id(transport)]  # admitted busy, with its opening request counted
        with _until_answered(session, send, stream=False) as answer:
            await self._serve_opening_request(transport, scope, receive, answer)

    @contextmanager
    def _in_flight(self, session: _Session, send: Send, *, stream: bool) -> Iterator[Send]:
        if stream:
            session.streams += 1
        else:
            session.requests += 1
        session.last_active = anyio.current_time()
        with _until_answered(session, send, stream=stream) as answer:
            yield answer

    # --- admission and eviction ---------------------------------------------------------------------------------

    def _admit(self, owner: str) -> StreamableHTTPServerTransport | None:
        """A new session for `owner`, closing another one first if the table is full; None if none may close.

        Synchronous on purpose: no other request can run between the choice of victim and the admission.
        """
        if len(self._server_instances) >= self.session_cap:
            victim = self._eviction_candidate()
            if victim is None:
                return None
            self._evict(victim)
        transport = super()._admit_session(None)  # None: no SDK-level auth, we bind owners ourselves
        if transport is None:
            return None
        self._sessions[_session_id(transport)] = _Session(owner, anyio.current_time())
        self._held[owner] += 1
        return transport

    def _eviction_candidate(self) -> str | None:
        """Idle before streaming; then the owner holding the most; then least recently active. Never busy."""
        best: tuple[int, int, float] | None = None
        chosen = None
        for session_id, session in self._sessions.items():
            if session.state == "busy" or not _may_close(self._server_instances.get(session_id)):
                continue
            rank = (session.state == "streaming", -self._held[session.owner], session.last_active)
            if best is None or rank < best:
                best, chosen = rank, session_id
        return chosen

    def _evict(self, session_id: str) -> None:
        transport = self._server_instances.pop(session_id)  # from now on its id answers 404
        session = self._forget(session_id)
        logger.info(
            "Closing session %s of %s to admit a new one (%d sessions open)",
            session_id[:64],
            session.owner if session else "?",
            self.session_cap,
        )
        # The same path as the SDK's idle expiry: the session's task ends and discards (terminates) the transport.
        assert transport.idle_scope is not None  # checked by _may_close
        transport.idle_scope.cancel()

    def _forget(self, session_id: str) -> _Session | None:
        session = self._sessions.pop(session_id, None)
        if session is not None:
            self._held[session.owner] -= 1
            if not self._held[session.owner]:
                del self._held[session.owner]
        return session

    async def _discard_session(self, session_id: str, transport: StreamableHTTPServerTransport) -> None:
        # Every way a session ends (DELETE, idle expiry, eviction, failed opening, crash) comes through here.
        self._forget(session_id)
        await super()._discard_session(session_id, transport)


@contextmanager
def _until_answered(session: _Session, send: Send, *, stream: bool) -> Iterator[Send]:
    """Count one request of `session` as in flight until its answer's last byte is handed to the server.

    Not until the SDK's handler returns: it still tidies up after the answer has gone, and a client that already
    holds its answer (a flooder sending its next `initialize`) must not find its previous session still busy,
    or the only sessions left to close would be the connected clients' streams. Ends once, whichever comes first.
    """
    ended = False

    def end() -> None:
        nonlocal ended
        if not ended:
            ended = True
            if stream:
                session.streams -= 1
            else:
                session.requests -= 1
            session.last_active = anyio.current_time()

    async def answer(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            end()
        await send(message)

    try:
        yield answer
    finally:
        end()


def owner_of(authorization: list[str]) -> str:
    """Who a request acts as: the fingerprint of its bearer key, or the server key when it sends none."""
    key = bearer_key(authorization)
    return SERVER_KEY_OWNER if key is None else key_fingerprint(key)


def _session_id(transport: StreamableHTTPServerTransport) -> str:
    assert transport.mcp_session_id is not None  # stateful transports always have one
    return transport.mcp_session_id


def _may_close(transport: StreamableHTTPServerTransport | None) -> bool:
    """A session can be closed once its task runs (its idle scope exists) and it is not already ending."""
    return transport is not None and transport.idle_scope is not None and not transport.idle_scope.cancel_called


def streamable_app(server: MCPServer[Any], settings: Settings, security: TransportSecuritySettings) -> Starlette:
    """The MCP endpoint (`/mcp`) for both protocol eras, with the session bounds from `settings`, and the
    health probe (`GET /healthz`).

    Built like the SDK's `Server.streamable_http_app` (route, lifespan running the manager; the manager applies
    the request body limit), with our manager. The manager is `app.state.session_manager`.
    """
    manager = BoundedSessionManager(
        server._lowlevel_server,  # private: MCPServer offers no public way to build its app with another manager
        security_settings=security,
        session_idle_timeout=settings.session_idle_seconds,
        max_sessions=settings.max_sessions,
    )
    app = Starlette(
        routes=[
            Route(MCP_PATH, endpoint=StreamableHTTPASGIApp(manager)),
            Route(HEALTH_PATH, endpoint=_healthz, methods=["GET"]),
        ],
        lifespan=lambda _app: manager.run(),
    )
    app.state.session_manager = manager
    return app


async def _healthz(_request: Request) -> JSONResponse:
    """Liveness: the process serves HTTP. Deliberately asks telli nothing (a probe must not spend a caller's
    rate limit, and telli being slow is not this server being down)."""
    return JSONResponse({"status": "ok"})


# --- what this module relies on in the SDK ---------------------------------------------------------------------

_OVERRIDDEN: Final = {
    "_handle_stateful_request": ["self", "scope", "receive", "send"],
    "_admit_session": ["self", "requestor"],
    "_serve_opening_request": ["self", "http_transport", "scope", "receive", "send"],
    "_discard_session": ["self", "session_id", "transport"],
}


def sdk_shape_problems() -> list[str]:
    """What is missing or different in the installed SDK among the private parts this module uses."""
    problems = []
    for name, parameters in _OVERRIDDEN.items():
        method = getattr(StreamableHTTPSessionManager, name, None)
        if method is None:
            problems.append(f"StreamableHTTPSessionManager.{name} is gone")
        elif list(inspect.signature(method).parameters) != parameters:
            problems.append(f"StreamableHTTPSessionManager.{name} now takes {inspect.signature(method)}")
    if not callable(getattr(_sdk_manager, "_error_response", None)):
        problems.append("mcp.server.streamable_http_manager._error_response is gone")
    expected_in_source: list[tuple[Callable[..., Any], str, str]] = [
        (StreamableHTTPSessionManager.__init__, "self._server_instances", "keeps its sessions in _server_instances"),
        (
            StreamableHTTPSessionManager._handle_request,
            "self._handle_stateful_request(",
            "dispatches legacy requests to _handle_stateful_request",
        ),
        (StreamableHTTPServerTransport.__init__, "self.idle_scope", "gives transports an idle_scope"),
        (MCPServer.__init__, "self._lowlevel_server", "keeps MCPServer's low-level server in _lowlevel_server"),
    ]
    for function, text, meaning in expected_in_source:
        try:
            source = inspect.getsource(function)
        except OSError:  # installed without sources: the behaviour tests still cover it
            continue
        if text not in source:
            problems.append(f"the SDK no longer {meaning}")
    return problems
