"""Wait for a call to end: from telli's webhook events when they flow, otherwise by polling telli with backoff.

What counts as "the call": with a `call_id`, that call once it has ended; with a `contact_id`, the contact's
first call that ends after the wait began. A call that ended up to `GRACE` before counts too, so a short call
that ended between "call Max now" and the wait is not missed.

Time is the `WaitClock`'s: real time in production, the simulator's clock in the sandbox and in tests (so a
test moves time instead of sleeping). The request budget is the poll schedule below, one telli read per poll:
- no events flowing: a read at once, then 5, 10, 20 and from then on 30 s apart (at 0, 5, 15, 35, 65, 95 s…):
  4 reads in the first minute, 2 per minute after that;
- events flowing (a webhook endpoint for the account that received an event within `FLOWING_WITHIN`): a read
  at once and then one a minute, a safety net for a lost event.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal

import anyio
from pydantic import BaseModel

from telli_mcp.client.models.calls import Call
from telli_mcp.webhooks.clock import WaitClock
from telli_mcp.webhooks.events import CallEnded
from telli_mcp.webhooks.hub import EventHub
from telli_mcp.webhooks.store import EventStore

if TYPE_CHECKING:
    from telli_mcp.client import TelliClient

__all__ = ["FLOWING_WITHIN", "GRACE", "CallWait", "Waited", "flowing", "poll_delays"]

GRACE: Final = timedelta(seconds=60)
FLOWING_WITHIN: Final = timedelta(days=1)
PROGRESS_EVERY: Final = 5.0
_POLLING: Final = (5.0, 10.0, 20.0, 30.0)
_SAFETY_NET: Final = 60.0

Progress = Callable[[float, float], Awaitable[None]]
"""Told (seconds waited, seconds allowed) every few seconds, so that clients do not time the request out."""


class Waited(BaseModel):
    """How a wait ended."""

    call: Call | None
    """The ended call; None when the time ran out first."""
    source: Literal["webhook", "telli"] | None
    """Where the result came from: a stored webhook event or a read from telli."""
    waited_seconds: float
    telli_reads: int
    events_flowing: bool


def poll_delays(events_flowing: bool) -> Iterator[float]:
    """Seconds between telli reads, after the first one (which is made at once)."""
    if events_flowing:
        while True:
            yield _SAFETY_NET
    yield from _POLLING
    while True:
        yield _POLLING[-1]


def flowing(last_event_at: datetime | None, now: datetime) -> bool:
    """Whether an account's events count as flowing: one arrived within `FLOWING_WITHIN`."""
    return last_event_at is not None and now - last_event_at <= FLOWING_WITHIN


def _ended(call: Call) -> bool:
    return call.call_status is not None and call.ended_at is not None


class CallWait:
    """One wait for one call or for a contact's next call."""

    def __init__(
        self,
        *,
        client: TelliClient,
        clock: WaitClock,
        account: str,
        store: EventStore | None,
        hub: EventHub | None,
        contact_id: str | None = None,
        call_id: str | None = None,
    ) -> None:
        if (contact_id is None) == (call_id is None):
            raise ValueError("wait for exactly one of contact_id or call_id")
        self._client, self._clock, self._account = client, clock, account
        self._store, self._hub = store, hub
        self._contact_id, self._call_id = contact_id, call_id
        self._began = clock.now()
        self._reads = 0

    def events_flowing(self) -> bool:
        if self._store is None:
            return False
        return flowing(self._store.health(self._account).last_event_at, self._clock.now())

    async def wait(self, seconds: float, progress: Progress | None = None) -> Waited:
        """Wait at most `seconds` (on the wait clock) for the call to end; cancellable at any point."""
        flowing = self.events_flowing()
        deadline = self._began + timedelta(seconds=seconds)
        delays = poll_delays(flowing)
        next_read = self._began
        next_progress = self._began + timedelta(seconds=PROGRESS_EVERY)
        while True:
            changed = self._hub.changed(self._account) if self._hub is not None else None
            found = self._from_events()
            if found is not None:
                return self._result(found, "webhook", flowing)
            now = self._clock.now()
            if now >= next_read:
                found = await self._from_telli()
                if found is not None:
                    return self._result(found, "telli", flowing)
                next_read = now + timedelta(seconds=next(delays))
            if now >= deadline:
                return self._result(None, None, flowing)
            if progress is not None and now >= next_progress:
                await progress(self._seconds_since_start(), seconds)
                next_progress = now + timedelta(seconds=PROGRESS_EVERY)
            await self._until(min(next_read, next_progress, deadline), changed)

    def _seconds_since_start(self) -> float:
        return max(0.0, (self._clock.now() - self._began).total_seconds())

    def _result(self, call: Call | None, source: Literal["webhook", "telli"] | None, flowing: bool) -> Waited:
        return Waited(
            call=call,
            source=source,
            waited_seconds=math.floor(self._seconds_since_start() * 10) / 10,
            telli_reads=self._reads,
            events_flowing=flowing,
        )

    def _counts(self, call: Call) -> bool:
        if not _ended(call):
            return False
        if self._call_id is not None:
            return call.call_id == self._call_id
        assert call.ended_at is not None
        return call.contact_id == self._contact_id and call.ended_at >= self._began - GRACE

    def _from_events(self) -> Call | None:
        if self._store is None:
            return None
        for stored in self._store.calls_ended(self._account, contact_id=self._contact_id, call_id=self._call_id):
            event = stored.event()
            if isinstance(event, CallEnded) and self._counts(event.call):
                return event.call
        return None

    async def _from_telli(self) -> Call | None:
        from telli_mcp.client import NotFoundError

        self._reads += 1
        if self._call_id is not None:
            try:
                call = (await self._client.calls.get(self._call_id)).call
            except NotFoundError:
                return None  # telli lists a call only once it exists; keep waiting
            return call if self._counts(call) else None
        page = await self._client.calls.list(contact_id=self._contact_id, limit=1)
        return next((call for call in page.items if self._counts(call)), None)

    async def _until(self, moment: datetime, changed: anyio.Event | None) -> None:
        """Sleep until `moment`, or until the hub says an event of this account was stored."""
        async with anyio.create_task_group() as tasks:

            async def then_stop(waiting: Callable[[], Awaitable[object]]) -> None:
                await waiting()
                tasks.cancel_scope.cancel()

            tasks.start_soon(then_stop, lambda: self._clock.sleep_until(moment))
            if changed is not None:
                tasks.start_soon(then_stop, changed.wait)
