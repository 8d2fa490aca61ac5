"""The simulator's webhooks: telli's `call_ended` and `contact_status_changed`, signed as Svix signs them.

An account with a webhook target gets one message per event. Each message is delivered on the simulated clock
with telli's retry schedule (§8.1: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h later) until a
2xx answer, keeping its `svix-id` across retries and signing each attempt anew with the real time (the receiver
checks that against its own clock, as Svix's receivers do). Tests compress the schedule with `retry_schedule`.

Faults (`WebhookFault`) make the delivery as unreliable as the internet is: the next attempt dropped (it counts as
failed and is retried), a message held back, a message delivered twice, or two messages delivered in reverse
order.

Delivery happens only when `pump` runs (the simulator calls it from `advance`, after the dialer's events), so a
route handler never waits for a webhook, and tests see deliveries exactly when they move the clock.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import count
from typing import Any, Final

import anyio
from pydantic import SecretStr

from telli_mcp.webhooks.signature import signed_headers

__all__ = [
    "RETRY_SCHEDULE",
    "Attempt",
    "Deliver",
    "Outbox",
    "WebhookFault",
    "WebhookFaultKind",
    "WebhookTarget",
    "http_delivery",
]

logger = logging.getLogger("telli_mcp.simulator.webhooks")

RETRY_SCHEDULE: Final = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
"""When each attempt is made, counted from the previous one (telli-api.md §8.1)."""

Deliver = Callable[[bytes, dict[str, str]], Awaitable[int]]
"""POST a body with headers to the receiver; returns the HTTP status (raises on a network error)."""


@dataclass(frozen=True)
class WebhookTarget:
    deliver: Deliver
    secret: SecretStr


class WebhookFaultKind(StrEnum):
    DROP = "drop"
    """The next attempt never arrives; the sender sees a failure and retries on schedule."""
    DELAY = "delay"
    """The next message waits `delay` longer before its first attempt."""
    DUPLICATE = "duplicate"
    """The next message is delivered twice, with the same id."""
    REORDER = "reorder"
    """The next two messages are delivered in reverse order."""


@dataclass(frozen=True)
class WebhookFault:
    kind: WebhookFaultKind
    delay: timedelta = timedelta(0)


@dataclass
class _Message:
    account: str
    delivery_id: str
    body: bytes
    due: datetime
    attempts: int = 0


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt, for tests and the control API."""

    account: str
    delivery_id: str
    event: str
    status: int | None
    """The receiver's HTTP status; None when the attempt was dropped or the receiver could not be reached."""


@dataclass
class Outbox:
    """Messages waiting for delivery, per account target."""

    retry_schedule: Sequence[timedelta] = RETRY_SCHEDULE
    targets: dict[str, WebhookTarget] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    _queue: list[_Message] = field(default_factory=list)
    _faults: list[WebhookFault] = field(default_factory=list)
    _ids: count[int] = field(default_factory=count)
    _held: _Message | None = None
    _pumping: anyio.Lock | None = None

    def emit(self, account: str, payload: dict[str, Any], now: datetime) -> None:
        """Queue an event of `account` (nothing when the account has no webhook target)."""
        if account not in self.targets:
            return
        message = _Message(account, f"msg_sim{next(self._ids):08d}", json.dumps(payload).encode(), now)
        fault = self._take(WebhookFaultKind.DELAY, WebhookFaultKind.DUPLICATE, WebhookFaultKind.REORDER)
        if fault is not None and fault.kind is WebhookFaultKind.REORDER:
            self._held = message  # goes out after the next message
            return
        if fault is not None and fault.kind is WebhookFaultKind.DELAY:
            message.due = now + fault.delay
        self._queue.append(message)
        if fault is not None and fault.kind is WebhookFaultKind.DUPLICATE:
            self._queue.append(_Message(message.account, message.delivery_id, message.body, message.due))
        if self._held is not None:
            self._held.due = message.due
            self._queue.append(self._held)
            self._held = None

    def inject(self, fault: WebhookFault) -> None:
        self._faults.append(fault)

    def pending(self) -> int:
        return len(self._queue) + (self._held is not None)

    async def pump(self, now: datetime) -> None:
        """Make every attempt due by `now`, in due order; failed ones are re-queued on the retry schedule.

        Pumps run one at a time: the served simulator's clock and a `/_sim/advance` both move time, and two pumps
        at once would each take the same message (two deliveries of one attempt, or a crash)."""
        if self._pumping is None:
            self._pumping = anyio.Lock()  # made here: the simulator may be built outside any event loop
        async with self._pumping:
            await self._pump(now)

    async def _pump(self, now: datetime) -> None:
        due = sorted((m for m in self._queue if m.due <= now), key=lambda m: m.due)
        for message in due:
            self._queue.remove(message)
            delivered = await self._attempt(message)
            message.attempts += 1
            if not delivered and message.attempts < len(self.retry_schedule):
                message.due = max(message.due, now) + self.retry_schedule[message.attempts]
                self._queue.append(message)

    async def _attempt(self, message: _Message) -> bool:
        event = json.loads(message.body).get("event", "")
        if self._take(WebhookFaultKind.DROP) is not None:
            self.attempts.append(Attempt(message.account, message.delivery_id, event, None))
            return False
        target = self.targets[message.account]
        headers = signed_headers(target.secret, message.delivery_id, datetime.now(UTC), message.body)
        try:
            status: int | None = await target.deliver(message.body, headers)
        except Exception as err:  # an unreachable receiver is a failed attempt, as for Svix
            logger.info("Webhook delivery %s failed: %s", message.delivery_id, type(err).__name__)
            status = None
        self.attempts.append(Attempt(message.account, message.delivery_id, event, status))
        return status is not None and 200 <= status < 300

    def _take(self, *kinds: WebhookFaultKind) -> WebhookFault | None:
        for index, fault in enumerate(self._faults):
            if fault.kind in kinds:
                return self._faults.pop(index)
        return None


def http_delivery(url: str, *, timeout: float = 15.0) -> Deliver:
    """Deliver by POSTing to `url` (the served simulator), giving up after telli's 15 s answer limit."""
    import httpx2

    async def deliver(body: bytes, headers: dict[str, str]) -> int:
        async with httpx2.AsyncClient(timeout=timeout) as http:
            return (await http.post(url, content=body, headers=headers)).status_code

    return deliver
