"""Read a contact's dialer status from a v1 contact, even when telli leaves the `status` field out.

get-contacts-batch documents no `status` field (only the single get-contact does), so the status is derived
from the fields it does carry: `reached_at` ⇒ reached; `next_call_at` or `in_call_since` ⇒ pending (in the
dialer); calls made but nothing planned ⇒ closed; otherwise new. A `status` telli does send wins.
"""

from __future__ import annotations

from telli_mcp.client import ContactStatus, ContactV1

__all__ = ["dialer_status", "in_dialer", "was_scheduled"]


def dialer_status(contact: ContactV1) -> ContactStatus:
    """new, pending, reached or closed."""
    if contact.status is not None:
        try:
            return ContactStatus(contact.status)
        except ValueError:
            pass  # a status telli adds later: fall back to the fields below
    if contact.reached_at is not None:
        return ContactStatus.REACHED
    if contact.next_call_at is not None or contact.in_call_since is not None:
        return ContactStatus.PENDING
    if (contact.call_attempts or 0) > 0:
        return ContactStatus.CLOSED
    return ContactStatus.NEW


def was_scheduled(contact: ContactV1) -> bool:
    """True when the contact is or was in the auto-dialer (a lost schedule response was applied)."""
    return dialer_status(contact) is not ContactStatus.NEW or contact.next_call_at is not None


def in_dialer(contact: ContactV1) -> bool:
    """True while the dialer may still call the contact."""
    return contact.next_call_at is not None or dialer_status(contact) is ContactStatus.PENDING
