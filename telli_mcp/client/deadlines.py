"""One deadline for a whole piece of work against telli (an MCP tool call, say), however slowly telli answers.

`TelliClient(timeout=...)` bounds one request's exchange; `deadline()` bounds every request made inside its
block, by any client, together: each request gets at most the time left, a retry waits only if it fits, and a
request made after the deadline passed is not sent at all. Both end as `TelliTimeoutError`, whose
`maybe_processed` says whether telli may have acted, by the client's one rule.

The deadline lives in a context variable, so concurrent calls sharing one client each have their own, and
tasks started inside the block inherit it. When the block ends the deadline stops applying: work started
inside it that outlives it (a background run) is bounded by its own requests' timeouts only. Time a human
spends answering a question is not telli's: `paused()` stops the clock for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

__all__ = ["Deadline", "current_deadline", "deadline"]


@dataclass
class Deadline:
    """The time left for the work of one `deadline()` block, and what of it may have changed something."""

    seconds: float
    """The limit as configured."""
    setting: str
    """What set it, named in errors so the reader knows what to raise (e.g. an environment variable)."""
    _ends_at: float
    _paused_at: float | None = None
    _active: bool = True
    changes: list[str] = field(default_factory=list)
    """`METHOD /path` of each request of this work that may have changed something at telli."""

    def remaining(self) -> float:
        """Seconds left (never negative); the clock stands still while paused."""
        now = self._paused_at if self._paused_at is not None else time.monotonic()
        return max(0.0, self._ends_at - now)

    @property
    def active(self) -> bool:
        return self._active

    def describe(self) -> str:
        return f"the {self.seconds:g} s deadline ({self.setting})"

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop the clock while the work waits for something that is not telli (a person's answer)."""
        if self._paused_at is not None:
            yield
            return
        self._paused_at = time.monotonic()
        try:
            yield
        finally:
            self._ends_at += time.monotonic() - self._paused_at
            self._paused_at = None


_current: ContextVar[Deadline | None] = ContextVar("telli_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline of the work this code runs in, if its block has not ended."""
    found = _current.get()
    return found if found is not None and found.active else None


@contextmanager
def deadline(seconds: float, *, setting: str) -> Iterator[Deadline]:
    """Bound every telli request made inside the block to `seconds` in total (an enclosing, sooner deadline
    keeps applying)."""
    outer = current_deadline()
    if outer is not None and outer.remaining() <= seconds:
        yield outer
        return
    bound = Deadline(seconds=seconds, setting=setting, _ends_at=time.monotonic() + seconds)
    token = _current.set(bound)
    try:
        yield bound
    finally:
        bound._active = False
        _current.reset(token)
