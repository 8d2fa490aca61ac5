"""The run lease: who may run a campaign right now, and when a silent holder may be taken over.

A run holds the campaign's lease while it works. The lease is short: the holder renews it every
`HEARTBEAT_INTERVAL` (a background task, plus before every schedule request) and it lapses `LEASE_TTL` after
the last renewal, so a crashed run blocks a resume for at most `LEASE_TTL`, not for minutes. On the same host
a holder whose process no longer exists is taken over at once (its pid is gone, or now belongs to a process
that started later). A holder that is alive is never taken over before its lease lapsed.

Fencing: each claim increments the campaign's lease generation, and every write a run makes to the ledger
checks that the generation is still its own inside the same transaction (`LeaseLostError` otherwise). A run
that was frozen, lost its lease, and wakes up therefore cannot write, and as the write-ahead of every schedule
request is such a write (it also takes only leads still `contact_ready`), it cannot send either. Even a
mistaken take-over (say, two containers with one host name) cannot make two runs send the same lead: only the
current holder can mark a lead in flight, and a lead in flight is settled, not sent again. What no lease can
cover is a process frozen (suspended, not dead) for longer than the settle time in the microseconds between
its write-ahead and the request leaving the socket.

Taking over says nothing about leads whose request may be in flight: those stay `unknown` with the time
they settle (see `settle.py`), and the new holder waits for that before it verifies or re-sends anything.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

__all__ = ["HEARTBEAT_INTERVAL", "LEASE_TTL", "Holder", "Lease", "LeaseView"]

HEARTBEAT_INTERVAL = timedelta(seconds=5)
LEASE_TTL = timedelta(seconds=20)
"""Four heartbeats: a holder must miss several in a row before anyone may take the campaign over."""


@dataclass(frozen=True)
class Holder:
    """A process that can hold a lease: host name, pid and the pid's start marker (pids get reused)."""

    host: str
    pid: int
    started: str = ""
    """When the process started, in the kernel's clock ticks since boot (Linux); "" where unknown."""

    @classmethod
    def this_process(cls) -> Holder:
        return cls(host=socket.gethostname(), pid=os.getpid(), started=_start_marker(os.getpid()))

    def is_gone(self) -> bool:
        """True when no process with this pid (and start marker) exists on this host. Only meaningful on
        `host`; a process we may not signal (another user's) counts as alive."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return bool(self.started) and _start_marker(self.pid) not in ("", self.started)

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"


@dataclass(frozen=True)
class Lease:
    """What a run holds after a successful claim: every fenced ledger write names it."""

    campaign_id: str
    token: str
    generation: int
    holder: Holder


@dataclass(frozen=True)
class LeaseView:
    """A campaign's lease as the ledger records it (for take-over decisions and messages)."""

    token: str | None
    generation: int
    holder: Holder | None
    heartbeat: datetime | None
    expires_at: datetime | None

    def held(self) -> bool:
        return self.token is not None

    def lapsed(self, now: datetime) -> bool:
        return self.expires_at is None or now >= self.expires_at

    def holder_gone(self, here: Holder) -> bool:
        """The holder runs on this host and its process has exited: safe to take over at once."""
        return self.holder is not None and self.holder.host == here.host and self.holder.is_gone()

    def can_take_over(self, now: datetime, here: Holder) -> bool:
        return not self.held() or self.lapsed(now) or self.holder_gone(here)

    def wait_before_take_over(self, now: datetime) -> timedelta:
        """How long until the lease lapses (zero when it already has)."""
        if self.expires_at is None:
            return timedelta(0)
        return max(timedelta(0), self.expires_at - now)


def _start_marker(pid: int) -> str:
    """Field 22 of /proc/<pid>/stat (start time since boot); "" without procfs or when the pid is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # The command name (field 2) may contain spaces and parentheses; fields after it start at field 3.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""
