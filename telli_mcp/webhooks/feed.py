"""What a server needs to learn about calls from events: the store (opened on first use), the hub that wakes
waiters and listeners, and the clock waits run on."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from telli_mcp.webhooks.hub import EventHub

if TYPE_CHECKING:
    from telli_mcp.webhooks.clock import WaitClock
    from telli_mcp.webhooks.store import EventStore

__all__ = ["EventFeed"]


class EventFeed:
    def __init__(self, path: str, *, now: Callable[[], datetime], clock: WaitClock) -> None:
        self.path = path
        """The store's file (or ":memory:"): written here, or by `telli-mcp webhooks serve` beside a stdio server."""
        self.clock = clock
        """Real time, or the simulator's clock in the sandbox and tests."""
        self.hub = EventHub()
        """Wakes waiters and tells listeners when this process stores an event."""
        self._now = now

    @cached_property
    def store(self) -> EventStore:
        """Every account's stored events, opened when first needed (starting the server does not need them)."""
        from telli_mcp.webhooks.store import EventStore

        return EventStore(self.path, now=self._now)

    def readable(self, *, receiving: bool) -> EventStore | None:
        """The store to read: always when this process `receiving` events; otherwise only if it is open or its file
        exists (`telli-mcp webhooks serve` may write it), so a server without webhooks creates nothing."""
        if receiving or "store" in self.__dict__ or (self.path != ":memory:" and os.path.exists(self.path)):
            return self.store
        return None

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
