"""TelliSimulator: the simulated telli API as a Starlette app, with clock, dialer, faults and request log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

import anyio
import httpx2
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp

from telli_mcp.simulator.keys import TEST_API_KEY

from . import (
    control,
    routes_v1_contacts,
    routes_v1_dialer,
    routes_v1_phone_numbers,
    routes_v2_agents,
    routes_v2_contacts,
    routes_v2_properties,
)
from .accounts import AccountRegistry
from .clock import SimClock
from .dialer import Dialer
from .endpoint import Backend
from .errors import ApiError
from .fault_layer import FaultMiddleware, FaultTransport, LateRequests
from .faults import Fault, FaultQueue
from .request_log import LoggedRequest, RequestLog
from .seed import seed_demo
from .store import Account
from .webhooks import Deliver, Outbox, WebhookTarget
from .windows import DialerWindow

__all__ = ["TelliSimulator"]


class TelliSimulator:
    """A deterministic, in-memory telli API. Every API key is its own account (tenant).

    Use `transport()` with an httpx2 client in-process, or serve `app` over HTTP (see `serve.py`).
    Simulated time only moves through `advance`, which plays the auto-dialer's events in order.
    """

    def __init__(
        self,
        *,
        api_keys: Sequence[str] = (TEST_API_KEY,),
        seed_demo: bool = False,
        clock: SimClock | None = None,
        dialer_window: tuple[time, time] = (time(8), time(20)),
        dialer_weekdays_only: bool = True,
        rng_seed: int = 0,
        request_log_limit: int | None = None,
        threaded_checks: bool = False,
    ) -> None:
        """`threaded_checks`: check large request bodies against the contract in a worker thread, so one big
        batch does not hold up every request in flight (served over HTTP, where requests run concurrently as on
        telli's servers; in-process tests keep one deterministic order)."""
        self.clock = clock or SimClock()
        self._registry = AccountRegistry(self.clock, rng_seed=rng_seed)
        self._moved: anyio.Event | None = None
        self.webhooks = Outbox()
        """telli's webhook events of the accounts given a target with `send_webhooks` (and their delivery log)."""
        self._dialer = Dialer(
            self.clock,
            DialerWindow(dialer_window[0], dialer_window[1], dialer_weekdays_only),
            events=lambda account, payload: self.webhooks.emit(account.label, payload, self.clock.now()),
        )
        self._faults = FaultQueue()
        self._log = RequestLog(self._registry.label_for_authorization, limit=request_log_limit)
        self.request_log: list[LoggedRequest] = self._log.entries
        self._threaded_checks = threaded_checks
        self.app: ASGIApp = FaultMiddleware(self._build_api(), self._faults, self._log)
        self._late = LateRequests(self.app, self.clock)
        for api_key in api_keys:
            self.add_account(api_key, seed_demo=seed_demo)

    def __repr__(self) -> str:
        return f"TelliSimulator(now={self.clock.now().isoformat()}, accounts={len(self._registry.all())})"

    def transport(self) -> httpx2.AsyncBaseTransport:
        """An in-process transport: ASGITransport wrapped by the transport-level fault layer."""
        return FaultTransport(self.app, self._faults, self._log, self._late)

    async def advance(self, delta: timedelta | float) -> None:
        """Move simulated time forward, running every dialer event and every late request (`applied_late`
        faults) due until then, in time order."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("cannot advance by a negative duration")
        target = self.clock.now() + step
        while (due := self._late.next_due(target)) is not None:
            self._dialer.run_until(due)
            await self._late.apply_next()
        self._dialer.run_until(target)
        await self.webhooks.pump(self.clock.now())
        if self._moved is not None:
            self._moved.set()
            self._moved = None

    def now(self) -> datetime:
        """The simulated time (with `sleep_until`, the simulator is a clock that waiting code can run on)."""
        return self.clock.now()

    async def sleep_until(self, moment: datetime) -> None:
        """Return once simulated time has reached `moment` (waits for `advance`, however it is driven)."""
        while self.clock.now() < moment:
            if self._moved is None:
                self._moved = anyio.Event()  # created here: the simulator may be built outside any event loop
            await self._moved.wait()

    def send_webhooks(self, api_key: str, deliver: Deliver, secret: SecretStr) -> None:
        """Sign and deliver this account's `call_ended` and `contact_status_changed` events from now on, as
        telli's Svix does (retry schedule and faults: `webhooks`). Deliveries happen when the clock moves."""
        self.webhooks.targets[self._registry.get(api_key).label] = WebhookTarget(deliver, secret)

    async def release_late(self) -> None:
        """Apply every request held by an `applied_late` fault now, whenever it was due."""
        while len(self._late):
            await self._late.apply_next()

    def late_pending(self) -> int:
        """Requests held by `applied_late` faults and not applied yet."""
        return len(self._late)

    def inject(self, fault: Fault) -> None:
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def pending_faults(self) -> list[Fault]:
        return self._faults.pending()

    def requests_to(self, method: str, path_prefix: str) -> list[LoggedRequest]:
        return [
            entry for entry in self.request_log if entry.method == method.upper() and entry.path.startswith(path_prefix)
        ]

    def account(self, api_key: str) -> Account:
        """The account behind an API key, for direct state access in assertions and test setup."""
        return self._registry.get(api_key)

    def add_account(self, api_key: str, *, seed_demo: bool = False) -> Account:
        account = self._registry.add(api_key)
        if seed_demo:
            _seed(account, self._dialer)
        return account

    def _build_api(self) -> Starlette:
        backend = Backend(self._registry, self._dialer, self.clock, threaded_checks=self._threaded_checks)
        api_routes = [
            *routes_v1_contacts.routes(backend),
            *routes_v1_dialer.routes(backend),
            *routes_v1_phone_numbers.routes(backend),
            *routes_v2_contacts.routes(backend),
            *routes_v2_properties.routes(backend),
            *routes_v2_agents.routes(backend),
            *control.routes(self),
        ]
        return Starlette(routes=api_routes, exception_handlers={HTTPException: _http_error})


_seed = seed_demo  # the constructor's `seed_demo` flag shadows the function's name


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown routes and wrong methods answer in the API version's error shape."""
    assert isinstance(exc, HTTPException)
    error = ApiError(exc.status_code, exc.detail)
    body = error.v2_body() if request.url.path.startswith("/v2/") else error.v1_body()
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)
