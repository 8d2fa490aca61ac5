"""The clock waiting code runs on: real time in production, the simulator's in the sandbox and in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import anyio

__all__ = ["RealClock", "WaitClock"]


class WaitClock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, moment: datetime) -> None: ...


class RealClock:
    """Wall-clock time: what a server talking to the real telli waits on."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, moment: datetime) -> None:
        await anyio.sleep(max(0.0, (moment - self.now()).total_seconds()))
