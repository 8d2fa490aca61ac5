"""What the contact index holds and answers, as plain models (no SQLite here)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from telli_mcp.contact_index.names import NameMatch
from telli_mcp.contact_index.query import DialerState

if TYPE_CHECKING:
    from telli_mcp.client import ContactV1

__all__ = ["DialerRead", "IndexStatus", "IndexedContact", "SearchPage"]


class DialerRead(BaseModel):
    """A contact's auto-dialer state as read at `at` (a v1 read, an event sent then, or a contact just created)."""

    model_config = ConfigDict(frozen=True)

    state: DialerState
    call_attempts: int | None = None
    next_call_at: datetime | None = None
    reached_at: datetime | None = None
    in_call_since: datetime | None = None
    at: datetime

    @classmethod
    def of(cls, contact: ContactV1, at: datetime) -> DialerRead:
        """The state in a v1 record: `in_call` while a call is live, else the client's rule (new, pending,
        reached, closed)."""
        status = DialerState.IN_CALL if contact.in_call_since is not None else DialerState(contact.dialer_status())
        return cls(
            state=status,
            call_attempts=contact.call_attempts,
            next_call_at=contact.next_call_at,
            reached_at=contact.reached_at,
            in_call_since=contact.in_call_since,
            at=at,
        )

    @classmethod
    def new(cls, at: datetime) -> DialerRead:
        """A contact just created: never called, not in the dialer."""
        return cls(state=DialerState.NEW, call_attempts=0, at=at)

    @property
    def progress(self) -> int:
        """How far along telli's dialer this read is: calls only ever add up, and a live call comes after the
        calls before it, so a read further along is newer whenever it was sent or delivered."""
        return 2 * (self.call_attempts or 0) + (self.in_call_since is not None)

    @property
    def called_at(self) -> datetime | None:
        """The latest call this read proves: a live call's start, or the last time someone was reached."""
        moments = [moment for moment in (self.in_call_since, self.reached_at) if moment is not None]
        return max(moments, default=None)


class IndexedContact(BaseModel):
    """One contact as the index knows it (as of the index's sync, or later events and writes)."""

    contact_id: str
    first_name: str | None = None
    last_name: str | None = None
    phone_number: str | None = None
    external_id: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    """Property values by key, as telli keeps them."""
    created_at: datetime | None = None
    dialer_state: DialerState | None = None
    """None: not read yet (a contact written through before any sync read its state)."""
    call_attempts: int | None = None
    next_call_at: datetime | None = None
    reached_at: datetime | None = None
    in_call_since: datetime | None = None
    last_called_at: datetime | None = None
    """The latest call the index knows of: from telli's `reached_at` / `in_call_since` and the `call_ended` events
    received; a call that reached nobody before events were received is not known."""


class IndexStatus(BaseModel):
    """How much one tenant's index knows."""

    contacts: int
    as_of: datetime | None
    """When the last complete walk of telli's contacts started: every contact created, changed or deleted in telli
    before then is reflected. None: no walk has completed yet."""
    walking: bool
    """A walk was started and has not reached the end of telli's listing yet (the next sync continues it)."""
    walk_seen: int
    """Contacts the walk in progress has read so far."""

    @property
    def synced(self) -> bool:
        """A walk has completed: the index holds every contact (as of `as_of`)."""
        return self.as_of is not None


class SearchPage(BaseModel):
    """One page of a query's answer."""

    contacts: list[IndexedContact]
    total: int
    """Contacts matching the query in all (not only this page)."""
    name_match: NameMatch | None = None
    """With a name: whether every word matched in full or as a prefix, or typos had to be allowed."""
