"""What a server needs to learn about calls from events: the store (opened on first use), the hub that wakes
waiters and listeners, and the clock waits run on."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from pydantic import SecretStr

from telli_mcp.database.url import is_postgres_url
from telli_mcp.webhooks.hub import EventHub

if TYPE_CHECKING:
    from telli_mcp.webhooks.clock import WaitClock
    from telli_mcp.webhooks.store import EventStore

__all__ = ["EventFeed"]


class EventFeed:
    def __init__(self, location: str | SecretStr, *, now: Callable[[], datetime], clock: WaitClock) -> None:
        raw = location.get_secret_value() if isinstance(location, SecretStr) else location
        self.location: str | SecretStr = SecretStr(raw) if is_postgres_url(raw) else raw
        """Where the store lives: its SQLite file (or ":memory:"), written here or by `telli-mcp webhooks serve`
        beside a stdio server; or the PostgreSQL database the replicas share, as a secret (its URL holds a
        password and is never shown)."""
        self.clock = clock
        """Real time, or the simulator's clock in the sandbox and tests."""
        self.hub = EventHub()
        """Wakes waiters and tells listeners when an event is stored: by this process, or on PostgreSQL by any
        replica (`telli_mcp.webhooks.relay.relay_events` publishes the others')."""
        self._now = now

    @property
    def database_url(self) -> SecretStr | None:
        """The shared database's URL when the store is in one; None for a SQLite file."""
        return self.location if isinstance(self.location, SecretStr) else None

    @cached_property
    def store(self) -> EventStore:
        """Every account's stored events, opened when first needed (starting the server does not need them)."""
        from telli_mcp.webhooks.store import EventStore

        return EventStore(self.location, now=self._now)

    def readable(self, *, receiving: bool) -> EventStore | None:
        """The store to read: always when this process is `receiving` events or the store is in the shared
        database; a SQLite store only if it is open or its file exists (`telli-mcp webhooks serve` may write it),
        so a server without webhooks creates no file."""
        if receiving or "store" in self.__dict__ or self.database_url is not None:
            return self.store
        if isinstance(self.location, str) and self.location != ":memory:" and os.path.exists(self.location):
            return self.store
        return None

    def close(self) -> None:
        if "store" in self.__dict__:
            self.store.close()
