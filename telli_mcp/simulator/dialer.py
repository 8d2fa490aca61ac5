"""The auto-dialer: loops, call attempts and their outcomes, driven by the simulated clock (§7)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .clock import SimClock
from .conversations import call_status_of, compose_call, default_outcome, timing_for
from .errors import ApiError
from .records import ActiveAttempt, CallStatus, Contact, ContactStatus, DialerLoop, LoopState
from .store import Account
from .views import call_v1, contact_v1
from .windows import DialerWindow, next_retry

__all__ = ["Dialer", "EventSink"]

EventSink = Callable[[Account, dict[str, Any]], None]
"""Told every webhook event as telli would send it (`call_ended`, `contact_status_changed`)."""


def _no_events(_account: Account, _payload: dict[str, Any]) -> None:
    return None


@dataclass(order=True)
class _Event:
    when: datetime
    seq: int
    generation: int = field(compare=False)
    account: Account = field(compare=False)
    loop: DialerLoop = field(compare=False)


class Dialer:
    """Owns every loop's timeline. Route handlers start and stop loops; `run_until` plays events in order."""

    def __init__(self, clock: SimClock, window: DialerWindow, events: EventSink = _no_events) -> None:
        self.clock = clock
        self.window = window
        self._events_out = events
        self._events: list[_Event] = []
        self._seq = itertools.count()

    # -- commands from the API -------------------------------------------------------------------------

    def schedule(
        self,
        account: Account,
        contact: Contact,
        *,
        agent_id: str,
        max_retry_days: int | None = None,
        override_from_number: str | None = None,
    ) -> DialerLoop:
        """Put a contact into a loop; [I] a contact already in one keeps its loop (no second loop)."""
        existing = account.active_loop_for(contact.id)
        if existing is not None:
            return existing
        loop = self._new_loop(account, contact, agent_id, max_retry_days, override_from_number)
        loop.next_attempt_at = self.window.earliest_from(self.clock.now(), ZoneInfo(contact.timezone))
        contact.next_call_at = loop.next_attempt_at
        self._push(account, loop)
        return loop

    def initiate(
        self,
        account: Account,
        contact: Contact,
        *,
        agent_id: str,
        max_retry_days: int | None = None,
        override_from_number: str | None = None,
    ) -> ActiveAttempt:
        """Start an attempt right now, ignoring the window; later retries follow the loop's plan."""
        loop = account.active_loop_for(contact.id)
        if loop is not None and loop.active is not None:
            raise ApiError(400, "Contact is already in a call")
        if loop is None:
            loop = self._new_loop(account, contact, agent_id, max_retry_days, override_from_number)
        return self._start_attempt(account, loop)

    def remove(self, account: Account, contact: Contact) -> None:
        """Stop the contact's loop; a call in progress still finishes and is recorded."""
        loop = account.active_loop_for(contact.id)
        if loop is None:
            raise ApiError(400, "Contact is not in a dialer queue")
        loop.state = LoopState.REMOVED
        loop.next_attempt_at = None
        contact.next_call_at = None
        # [I] removal ends the loop like exhaustion once a call was made; untouched contacts go back to new.
        called = contact.call_attempts > 0 or loop.active is not None
        self._set_status(account, contact, ContactStatus.CLOSED if called else ContactStatus.NEW)
        self._push(account, loop)

    def adopt(self, account: Account, loop: DialerLoop) -> None:
        """Register a loop built elsewhere (the demo seed) so its pending events run."""
        account.add_loop(loop)
        self._push(account, loop)

    # -- time ------------------------------------------------------------------------------------------

    def run_until(self, target: datetime) -> None:
        """Play every due event (start or end of an attempt) up to `target`, in time order."""
        while self._events and self._events[0].when <= target:
            event = heapq.heappop(self._events)
            if event.generation != event.loop.generation:
                continue  # superseded by a later change to the loop
            self.clock.advance_to(max(event.when, self.clock.now()))
            if event.loop.active is not None:
                self._finish_attempt(event.account, event.loop)
            elif event.loop.state is LoopState.ACTIVE:
                self._start_attempt(event.account, event.loop)
        self.clock.advance_to(max(target, self.clock.now()))

    # -- internals ---------------------------------------------------------------------------------------

    def _new_loop(
        self,
        account: Account,
        contact: Contact,
        agent_id: str,
        max_retry_days: int | None,
        override_from_number: str | None,
    ) -> DialerLoop:
        loop = DialerLoop(
            loop_id=account.new_id(),
            contact_id=contact.id,
            agent_id=agent_id,
            max_retry_days=account.max_retry_days if max_retry_days is None else max_retry_days,
            override_from_number=override_from_number,
            created_at=self.clock.now(),
        )
        account.add_loop(loop)
        self._set_status(account, contact, ContactStatus.PENDING)
        return loop

    def _start_attempt(self, account: Account, loop: DialerLoop) -> ActiveAttempt:
        now = self.clock.now()
        contact = account.contacts[loop.contact_id]
        today = now.astimezone(ZoneInfo(contact.timezone)).date()
        attempt = loop.attempts + 1
        outcome = account.next_scripted_outcome(contact.id) or default_outcome(contact.phone_number, attempt)
        active = ActiveAttempt(
            call_id=account.new_id(),
            attempt=attempt,
            outcome=outcome,
            from_number=loop.override_from_number or account.outbound_number(),
            triggered_at=now,
            ends_at=now + timing_for(contact.id, attempt, outcome).ended_after,
        )
        if loop.first_day is None:
            loop.first_day = today
        loop.attempt_days.append(today)
        loop.active = active
        loop.next_attempt_at = None
        contact.in_call_since = now
        contact.next_call_at = None
        self._push(account, loop)
        return active

    def _finish_attempt(self, account: Account, loop: DialerLoop) -> None:
        active = loop.active
        assert active is not None
        loop.active = None
        contact = account.contacts[loop.contact_id]
        call = compose_call(
            call_id=active.call_id,
            attempt=active.attempt,
            contact=contact,
            agent=account.agents[loop.agent_id],
            loop_id=loop.loop_id,
            outcome=active.outcome,
            triggered_at=active.triggered_at,
            from_number=active.from_number,
        )
        account.calls[call.call_id] = call
        loop.call_ids.append(call.call_id)
        contact.call_attempts += 1
        contact.in_call_since = None
        if call_status_of(active.outcome) is CallStatus.COMPLETED:
            loop.state = LoopState.REACHED
            contact.reached_at = call.ended_at
            self._set_status(account, contact, ContactStatus.REACHED)
        elif contact.deleted:
            loop.state = LoopState.REMOVED
        elif loop.state is LoopState.ACTIVE:
            self._plan_retry(account, contact, loop, call.ended_at)
        self._push(account, loop)
        # One per attempt, "when a call is completed and analyzed", with the contact as get-contact shows it; also
        # for a contact deleted during the call (nothing documents an exception), so receivers must cope.
        self._events_out(account, {"event": "call_ended", "call": call_v1(call), "contact": contact_v1(contact)})

    def _plan_retry(self, account: Account, contact: Contact, loop: DialerLoop, ended_at: datetime) -> None:
        assert loop.first_day is not None
        retry_at = next_retry(
            ended_at=ended_at,
            first_day=loop.first_day,
            attempt_days=loop.attempt_days,
            max_retry_days=loop.max_retry_days,
            tz=ZoneInfo(contact.timezone),
            window=self.window,
        )
        loop.next_attempt_at = retry_at
        contact.next_call_at = retry_at
        if retry_at is None:
            loop.state = LoopState.CLOSED
            self._set_status(account, contact, ContactStatus.CLOSED)

    def _set_status(self, account: Account, contact: Contact, status: ContactStatus) -> None:
        if contact.status is status:
            return
        contact.status = status
        self._events_out(account, {"event": "contact_status_changed", "contact": contact_v1(contact)})

    def _push(self, account: Account, loop: DialerLoop) -> None:
        """Record the loop's next event; older heap entries of the loop become stale."""
        loop.generation += 1
        when = loop.active.ends_at if loop.active is not None else loop.next_attempt_at
        if when is None or (loop.active is None and loop.state is not LoopState.ACTIVE):
            return
        heapq.heappush(self._events, _Event(when, next(self._seq), loop.generation, account, loop))

    def forget(self, account: Account, contact: Contact) -> None:
        """The contact was deleted: its loop stops (a call in progress still finishes)."""
        loop = account.active_loop_for(contact.id)
        if loop is not None:
            loop.state = LoopState.REMOVED
            loop.next_attempt_at = None
            self._push(account, loop)
