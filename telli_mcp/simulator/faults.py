"""Fault injection: what can go wrong between a client and telli, queued and matched per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "BODY_KINDS",
    "HTTP_KINDS",
    "TRANSPORT_KINDS",
    "TRICKLE_PAUSE_SECONDS",
    "BodyEdit",
    "Fault",
    "FaultKind",
    "FaultQueue",
]

FaultKind = Literal[
    "status",
    "timeout_before",
    "timeout_after",
    "connect_error",
    "malformed_json",
    "truncated",
    "latency",
    "answer_time",
    "empty_body",
    "text_body",
    "reshape",
    "applied_late",
    "trickle",
]

TRANSPORT_KINDS: frozenset[str] = frozenset({"timeout_before", "timeout_after", "connect_error", "applied_late"})
"""Faults raised by the in-process transport (they cannot exist on a real socket server)."""
BODY_KINDS: frozenset[str] = frozenset({"truncated", "empty_body", "text_body", "reshape"})
"""Faults that let the request be processed and then change the answer's body."""
HTTP_KINDS: frozenset[str] = frozenset({"status", "malformed_json", "latency", "answer_time", "trickle"}) | BODY_KINDS
"""Faults produced by the ASGI app itself, so they also work over real HTTP."""
TRICKLE_PAUSE_SECONDS = 1.0
"""The pause between two bytes of a `trickle` answer unless the fault sets `latency`."""

EditOp = Literal["set", "delete", "rename"]


@dataclass(frozen=True)
class BodyEdit:
    """One change to a JSON answer, for `reshape` faults: the shapes a drifted or sloppy telli could send.

    `path` is dot-separated keys; `*` stands for every item of a list (or every value of an object), e.g.
    `calls.*.transcriptObject` or `data.0.firstName`. `set` writes `value` (adding the key if missing),
    `delete` removes the key, `rename` moves its value to the key `to`. A path that does not exist is left
    alone, so one edit can target a field that only some items carry.
    """

    path: str
    op: EditOp = "set"
    value: Any = None
    to: str | None = None

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError("a body edit needs a path")
        if self.op == "rename" and not self.to:
            raise ValueError("a rename edit needs `to`")

    def apply(self, body: Any) -> Any:
        *parents, last = self.path.split(".")
        for container in _walk(body, parents):
            self._apply_at(container, last)
        return body

    def _apply_at(self, container: Any, key: str) -> None:
        if isinstance(container, list):
            targets = range(len(container)) if key == "*" else [int(key)] if key.isdigit() else []
            for index in targets:
                if index < len(container) and self.op == "set":
                    container[index] = self.value
            return
        if not isinstance(container, dict):
            return
        keys = list(container) if key == "*" else [key]
        for name in keys:
            if self.op == "set":
                container[name] = self.value
            elif name in container and self.op == "delete":
                del container[name]
            elif name in container and self.to is not None:
                container[self.to] = container.pop(name)


def _walk(node: Any, parts: list[str]) -> list[Any]:
    """Every container reached by following `parts` from `node` (`*` fans out)."""
    nodes = [node]
    for part in parts:
        reached: list[Any] = []
        for current in nodes:
            if isinstance(current, dict):
                reached.extend(current.values() if part == "*" else [current[part]] if part in current else [])
            elif isinstance(current, list):
                if part == "*":
                    reached.extend(current)
                elif part.isdigit() and int(part) < len(current):
                    reached.append(current[int(part)])
        nodes = reached
    return nodes


@dataclass
class Fault:
    """One queued fault. It affects the next `times` matching requests (-1 = every one, forever).

    Kinds: `status` answers `status` with the documented error body (the request is not processed); `timeout_before`
    / `connect_error` raise before the request is processed; `timeout_after` processes the request (state changes!)
    and then raises a read timeout (the lost-response case); `malformed_json` answers 200 with a non-JSON body (not
    processed); `latency` delays the answer by `latency` seconds; `answer_time` processes the request at once and
    answers `latency` seconds after it came, the simulator's own work included (a telli that answers in that time,
    for benchmarks whose ideal counts that time alone; work that takes longer is not cut short). These process the
    request and then change the answer: `truncated` cuts the real body in half; `empty_body` keeps the status and
    sends no body; `text_body` keeps the status and sends a plain text "OK"; `reshape` applies `edits` (BodyEdits,
    or dicts of their fields) to the JSON body; `trickle` sends the real answer one byte at a time, `latency`
    seconds apart (`TRICKLE_PAUSE_SECONDS` when 0), so every read gets a byte in time and only a deadline on the
    whole exchange ends the wait (a real wait: `anyio.sleep`).

    `applied_late` is telli answering after the client gave up: the transport raises a read timeout to the
    client at once, without processing the request, and the simulator applies the request later, when
    `advance` moves its clock to `latency` simulated seconds after the request was sent (or at once on
    `release_late()`). It is logged when it is applied, with this fault kind and no status. In-process only.
    """

    method: str | None = None
    path: str | None = None
    """Exact path, or a prefix ending with '*', e.g. "/v2/contacts*". None matches every path."""
    status: int | None = None
    retry_after: float | None = None
    kind: FaultKind = "status"
    latency: float = 0.0
    times: int = 1
    edits: tuple[BodyEdit, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind == "status" and self.status is None:
            raise ValueError("a 'status' fault needs a status code")
        if self.times == 0 or self.times < -1:
            raise ValueError("times must be positive, or -1 for forever")
        self.edits = tuple(edit if isinstance(edit, BodyEdit) else BodyEdit(**edit) for edit in self.edits)
        if self.kind == "reshape" and not self.edits:
            raise ValueError("a 'reshape' fault needs at least one edit")

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
