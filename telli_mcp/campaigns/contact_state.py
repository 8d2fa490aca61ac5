"""Read a contact's dialer status from a v1 contact, even when telli leaves the `status` field out.

get-contacts-batch documents no `status` field (only the single get-contact does), so the status is derived
from the fields it does carry: `next_call_at` or `in_call_since` ⇒ pending (in the dialer); `reached_at` ⇒
reached; calls made but nothing planned ⇒ closed; otherwise new. Pending is checked first because a contact
scheduled again after it was reached keeps its old `reached_at` while it is back in the dialer. A `status` telli
does send wins.
"""

from __future__ import annotations

from collections.abc import Iterable

from telli_mcp.client import ContactStatus, ContactV1

__all__ = ["dialer_status", "in_dialer", "most_advanced", "was_scheduled"]

_PROGRESS = {ContactStatus.NEW: 0, ContactStatus.PENDING: 1, ContactStatus.CLOSED: 2, ContactStatus.REACHED: 3}


def dialer_status(contact: ContactV1) -> ContactStatus:
    """new, pending, reached or closed."""
    if contact.status is not None:
        try:
            return ContactStatus(contact.status)
        except ValueError:
            pass  # a status telli adds later: fall back to the fields below
    if contact.next_call_at is not None or contact.in_call_since is not None:
        return ContactStatus.PENDING
    if contact.reached_at is not None:
        return ContactStatus.REACHED
    if (contact.call_attempts or 0) > 0:
        return ContactStatus.CLOSED
    return ContactStatus.NEW


def was_scheduled(contact: ContactV1) -> bool:
    """True when the contact is or was in the auto-dialer (a lost schedule response was applied)."""
    return dialer_status(contact) is not ContactStatus.NEW or contact.next_call_at is not None


def in_dialer(contact: ContactV1) -> bool:
    """True while the dialer may still call the contact."""
    return contact.next_call_at is not None or dialer_status(contact) is ContactStatus.PENDING


def most_advanced(contacts: Iterable[ContactV1]) -> ContactV1 | None:
    """The contact furthest along one dialer loop (new, pending, closed, reached; the later of equals): a loop
    only moves forward, so this is its state even when telli's events arrive out of order."""
    furthest: ContactV1 | None = None
    for contact in contacts:
        if furthest is None or _PROGRESS[dialer_status(contact)] >= _PROGRESS[dialer_status(furthest)]:
            furthest = contact
    return furthest
