"""What a server needs to learn about calls from events: the store, the hub that wakes waiters, and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from telli_mcp.webhooks.hub import EventHub
from telli_mcp.webhooks.store import EventStore
from telli_mcp.webhooks.waiting import WaitClock

__all__ = ["EventFeed"]


@dataclass(frozen=True)
class EventFeed:
    store: EventStore
    """Every account's stored events (written here, or by `telli-mcp webhooks serve` beside a stdio server)."""
    hub: EventHub
    """Wakes waiters when this process stores an event."""
    clock: WaitClock
    """Real time, or the simulator's clock in the sandbox and tests."""
