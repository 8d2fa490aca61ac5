"""A controllable clock: simulated time only moves when the simulator is told to advance it."""

from __future__ import annotations

from datetime import UTC, datetime

DEFAULT_START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""Monday 2026-03-02 08:00 UTC (09:00 in Berlin): inside the default dialer window."""


class SimClock:
    """Simulated wall clock in UTC. Tests read it; only the simulator moves it, and only forward."""

    def __init__(self, start: datetime | None = None) -> None:
        start = DEFAULT_START if start is None else start
        if start.tzinfo is None:
            raise ValueError("SimClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        """Move the clock to `moment`; time never runs backwards."""
        if moment < self._now:
            raise ValueError("the simulated clock cannot run backwards")
        self._now = moment.astimezone(UTC)

    def __repr__(self) -> str:
        return f"SimClock(now={self._now.isoformat()})"
