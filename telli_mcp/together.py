"""Independent work of one answer done at once: telli reads in one round trip instead of one per read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

__all__ = ["both"]

A = TypeVar("A")
B = TypeVar("B")


async def both(first: Callable[[], Awaitable[A]], second: Callable[[], Awaitable[B]]) -> tuple[A, B]:
    """Run two independent reads concurrently (inside the call's deadline, which both inherit).

    The first failure cancels the other read and is raised as itself, not wrapped in an exception group, so the
    callers' error handling (`except NotFoundError`, the error translation) works as for sequential reads.
    """
    later: list[B] = []

    async def run_second() -> None:
        later.append(await second())

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(run_second)
            # The first read runs in this task: one task fewer to start per answer (~30 us of CPU on the loop).
            earlier = await first()
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return earlier, later[0]
