"""Fault injection: what can go wrong between a client and telli, queued and matched per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["HTTP_KINDS", "TRANSPORT_KINDS", "Fault", "FaultKind", "FaultQueue"]

FaultKind = Literal[
    "status", "timeout_before", "timeout_after", "connect_error", "malformed_json", "truncated", "latency"
]

TRANSPORT_KINDS: frozenset[str] = frozenset({"timeout_before", "timeout_after", "connect_error"})
"""Faults raised by the in-process transport (they cannot exist on a real socket server)."""
HTTP_KINDS: frozenset[str] = frozenset({"status", "malformed_json", "truncated", "latency"})
"""Faults produced by the ASGI app itself, so they also work over real HTTP."""


@dataclass
class Fault:
    """One queued fault. It affects the next `times` matching requests (-1 = every one, forever).

    Kinds: `status` answers `status` with the documented error body (the request is not processed);
    `timeout_before` / `connect_error` raise before the request is processed; `timeout_after` processes
    the request (state changes!) and then raises a read timeout (the lost-response case);
    `malformed_json` answers 200 with a non-JSON body (not processed); `truncated` processes the request and
    cuts the real body in half; `latency` delays the answer by `latency` seconds.
    """

    method: str | None = None
    path: str | None = None
    """Exact path, or a prefix ending with '*', e.g. "/v2/contacts*". None matches every path."""
    status: int | None = None
    retry_after: float | None = None
    kind: FaultKind = "status"
    latency: float = 0.0
    times: int = 1

    def __post_init__(self) -> None:
        if self.kind == "status" and self.status is None:
            raise ValueError("a 'status' fault needs a status code")
        if self.times == 0 or self.times < -1:
            raise ValueError("times must be positive, or -1 for forever")

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


class FaultQueue:
    """Faults in injection order; the first live fault matching a request (and layer) is used."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> list[Fault]:
        return list(self._faults)

    def take(self, method: str, path: str, kinds: frozenset[str]) -> Fault | None:
        """Consume one use of the first matching fault of one of `kinds`."""
        for index, fault in enumerate(self._faults):
            if fault.kind in kinds and fault.matches(method, path):
                if fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        del self._faults[index]
                return fault
        return None
