"""telli's view of campaign contacts, kept for a few seconds so paging through a campaign's status does not
read the same contacts again.

Why 5 seconds: an assistant asks for the next page right after the previous one (well within a second or
two), while a contact's dialer state changes at most once per call attempt, minutes apart. Five seconds
covers a burst of page requests, and a page never shows telli's state older than that: an entry past its
age is read again, and a contact's calls are dropped with it. The clock is monotonic (wall-clock
jumps cannot keep an entry alive) and injectable, so tests can age entries without waiting.

Entries are per tenant (one telli account never sees another's) and expired ones are swept on every use,
so the cache holds at most the contacts of the pages read in the last few seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from telli_mcp.client import Call, ContactV1

__all__ = ["STATE_TTL", "CachedState", "ContactCache"]

STATE_TTL = 5.0
"""Seconds a contact's state read from telli is reused (see the module docstring for why 5)."""


@dataclass(slots=True)
class CachedState:
    """What a page knows about one contact: telli's contact (None when telli no longer returns it) and, once
    read, its calls (newest first)."""

    contact: ContactV1 | None
    read_at: float
    calls: list[Call] | None = None


class ContactCache:
    """Contact states by (tenant, contact id), each for `ttl` seconds after it was read."""

    def __init__(self, *, ttl: float = STATE_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[tuple[str, str], CachedState] = {}

    def fresh(self, tenant: str, contact_ids: Iterable[str]) -> dict[str, CachedState]:
        """The entries of `contact_ids` read less than `ttl` seconds ago."""
        self._sweep()
        found = {}
        for contact_id in contact_ids:
            entry = self._entries.get((tenant, contact_id))
            if entry is not None:
                found[contact_id] = entry
        return found

    def put(self, tenant: str, contact_id: str, contact: ContactV1 | None) -> CachedState:
        entry = CachedState(contact=contact, read_at=self.clock())
        self._entries[(tenant, contact_id)] = entry
        return entry

    def forget(self, tenant: str) -> None:
        """Drop `tenant`'s entries: after this process changed its contacts (a run, a stop), a page must show
        what telli says now, not what it said a few seconds ago."""
        for key in [key for key in self._entries if key[0] == tenant]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()

    def _sweep(self) -> None:
        oldest = self.clock() - self.ttl
        for key in [key for key, entry in self._entries.items() if entry.read_at <= oldest]:
            del self._entries[key]
