"""Run an async function over many items with a bound on how many run at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio

__all__ = ["map_limited"]

T = TypeVar("T")
R = TypeVar("R")


async def map_limited(items: Sequence[T], function: Callable[[T], Awaitable[R]], limit: int) -> list[R]:
    """`[await function(item) for item in items]`, at most `limit` at a time, results in input order."""
    results: dict[int, R] = {}
    limiter = anyio.CapacityLimiter(max(1, limit))

    async def one(index: int, item: T) -> None:
        async with limiter:
            results[index] = await function(item)

    async with anyio.create_task_group() as group:
        for index, item in enumerate(items):
            group.start_soon(one, index, item)
    return [results[index] for index in range(len(items))]
