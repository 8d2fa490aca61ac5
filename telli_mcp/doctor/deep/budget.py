"""The request budget: the deep check sends at most a fixed number of HTTP requests, retries included.

The client calls its `sleep` exactly once before each retry, so handing it `RequestBudget.sleep` counts the
retries without reaching into the client's retry policy (which stays the one that honours 429 and Retry-After).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

__all__ = ["BudgetSpent", "RequestBudget", "Sleep"]

Sleep = Callable[[float], Awaitable[None]]


class BudgetSpent(Exception):
    """The next request would exceed the budget; nothing was sent."""


class RequestBudget:
    def __init__(self, limit: int, sleep: Sleep) -> None:
        self.limit = limit
        self.used = 0
        self._sleep = sleep

    def spend(self) -> None:
        """Count one request about to be sent, or raise BudgetSpent when none is left."""
        if self.used >= self.limit:
            raise BudgetSpent(f"the request budget of {self.limit} requests is spent")
        self.used += 1

    async def sleep(self, seconds: float) -> None:
        """The client's wait before a retry: the retry is a request, so it is paid for first."""
        self.spend()
        await self._sleep(seconds)
