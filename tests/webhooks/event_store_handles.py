"""The type of the `open_events` fixture (tests/webhooks/conftest.py), for the tests that take it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from telli_mcp.webhooks import EventStore

__all__ = ["OpenEvents"]


class OpenEvents(Protocol):
    """Opens another handle on the test's one event store: another process, a replica, a restart."""

    def __call__(
        self, *, now: Callable[[], datetime] | None = None, wall: Callable[[], datetime] | None = None
    ) -> EventStore: ...
