"""Read a contact's dialer status from a v1 contact, even when telli leaves the `status` field out.

The rule itself is `ContactV1.dialer_status` (in the client, so the contact index applies the same one); this
module adds what the campaigns ask of it.
"""

from __future__ import annotations

from collections.abc import Iterable

from telli_mcp.client import ContactStatus, ContactV1

__all__ = ["dialer_status", "in_dialer", "most_advanced", "was_scheduled"]

_PROGRESS = {ContactStatus.NEW: 0, ContactStatus.PENDING: 1, ContactStatus.CLOSED: 2, ContactStatus.REACHED: 3}


def dialer_status(contact: ContactV1) -> ContactStatus:
    """new, pending, reached or closed (`ContactV1.dialer_status`)."""
    return contact.dialer_status()


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
