"""Independent telli reads of one answer, sent at once: one round trip instead of one per read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

__all__ = ["both"]

A = TypeVar("A")
B = TypeVar("B")


async def both(first: Callable[[], Awaitable[A]], second: Callable[[], Awaitable[B]]) -> tuple[A, B]:
    """Run two independent reads concurrently (inside the call's deadline, which their tasks inherit).

    The first failure cancels the other read and is raised as itself, not wrapped in an exception group, so the
    callers' error handling (`except NotFoundError`, the error translation) works as for sequential reads.
    """
    results: list[Any] = [None, None]

    async def run(index: int, read: Callable[[], Awaitable[Any]]) -> None:
        results[index] = await read()

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(run, 0, first)
            group.start_soon(run, 1, second)
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return results[0], results[1]
