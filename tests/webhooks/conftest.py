"""The event store under test, on either engine: `open_events` opens a handle on a SQLite file or on a schema of
the test PostgreSQL (`postgres_url`), the same storage each time it is called (another process, a replica)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from event_store_handles import OpenEvents
from postgres_helpers import postgres_url  # noqa: F401  # the fixture, for `open_events`

from telli_mcp.webhooks import EventStore


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # psycopg's async connections (the relay) run on asyncio


@pytest.fixture(params=["sqlite", "postgresql"])
def open_events(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenEvents]:
    """Opens another handle on one event store (closed after the test)."""
    sqlite = request.param == "sqlite"
    location = str(tmp_path / "events.sqlite3") if sqlite else request.getfixturevalue("postgres_url")
    opened: list[EventStore] = []

    def open_store(
        *, now: Callable[[], datetime] | None = None, wall: Callable[[], datetime] | None = None
    ) -> EventStore:
        clocks = {name: clock for name, clock in (("now", now), ("wall", wall)) if clock is not None}
        opened.append(EventStore(location, **clocks))
        return opened[-1]

    yield open_store
    for store in opened:
        store.close()
