"""Bounded concurrency, and plain exceptions out of task groups.

anyio task groups wrap even a single failure in an `ExceptionGroup`. The campaign engine's callers (and its
own progress callbacks that abort a run on purpose) expect the original exception, so `single_errors`
unwraps a group whose errors are all of one type (the same failure hitting several parallel chunks).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

import anyio

__all__ = ["map_limited", "single_errors"]

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def single_errors() -> Iterator[None]:
    """Re-raise the first exception of a group whose exceptions all have the same type."""
    try:
        yield
    except BaseExceptionGroup as group:
        leaves = _leaves(group)
        if len({type(leaf) for leaf in leaves}) == 1:
            raise leaves[0] from None
        raise


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for error in group.exceptions:
        found.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return found


async def map_limited(items: Sequence[T], function: Callable[[T], Awaitable[R]], limit: int) -> list[R]:
    """`[await function(item) for item in items]`, at most `limit` at a time, results in input order."""
    results: dict[int, R] = {}
    limiter = anyio.CapacityLimiter(max(1, limit))

    async def one(index: int, item: T) -> None:
        async with limiter:
            results[index] = await function(item)

    with single_errors():
        async with anyio.create_task_group() as group:
            for index, item in enumerate(items):
                group.start_soon(one, index, item)
    return [results[index] for index in range(len(items))]
