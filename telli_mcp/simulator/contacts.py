"""Contact writes shared by v1 and v2: create, change, soft-delete. Callers parse and validate wire input."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Final, TypeAlias, TypeVar

from .dialer import Dialer
from .errors import ApiError
from .records import Contact, JsonValue
from .store import Account

__all__ = ["UNSET", "ContactChanges", "apply_changes", "create_contact", "delete_contact"]


class _Unset(Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
T = TypeVar("T")
Maybe: TypeAlias = T | _Unset


@dataclass
class ContactChanges:
    """Fields to write; UNSET leaves a field alone. `custom` replaces all values, `custom_merge` merges."""

    first_name: Maybe[str] = UNSET
    last_name: Maybe[str] = UNSET
    phone_number: Maybe[str] = UNSET
    external_id: Maybe[str | None] = UNSET
    external_url: Maybe[str | None] = UNSET
    salutation: Maybe[str | None] = UNSET
    email: Maybe[str | None] = UNSET
    timezone: Maybe[str | None] = UNSET
    custom: dict[str, JsonValue] | None = None
    custom_merge: dict[str, JsonValue] = field(default_factory=dict)
    """Values to merge; None clears a key."""


def create_contact(account: Account, changes: ContactChanges) -> Contact:
    """A new contact from complete changes (first/last name and phone are required by both APIs)."""
    assert isinstance(changes.first_name, str)
    assert isinstance(changes.last_name, str)
    assert isinstance(changes.phone_number, str)
    _check_external_id(account, changes.external_id, None)
    now = account.clock.now()
    contact = Contact(
        id=account.new_id(),
        first_name=changes.first_name,
        last_name=changes.last_name,
        phone_number=changes.phone_number,
        timezone=account.timezone,
        created_at=now,
        updated_at=now,
        seq=account.next_seq(),
    )
    _write(account, contact, changes)
    account.insert_contact(contact)
    return contact


def apply_changes(account: Account, contact: Contact, changes: ContactChanges) -> None:
    _check_external_id(account, changes.external_id, contact.id)
    _write(account, contact, changes)
    contact.updated_at = account.clock.now()


def delete_contact(account: Account, contact: Contact, dialer: Dialer) -> None:
    """Soft delete: stop dialing, anonymise PII, hide the record from every lookup and listing."""
    dialer.forget(account, contact)
    contact.deleted = True
    contact.first_name = "Deleted"
    contact.last_name = "Contact"
    contact.phone_number = ""
    contact.email = None
    contact.salutation = None
    account.set_external_id(contact, None)  # [I] frees the external id for reuse
    contact.external_url = None
    contact.custom = {}
    contact.next_call_at = None
    contact.updated_at = account.clock.now()


def _check_external_id(account: Account, external_id: Maybe[str | None], contact_id: str | None) -> None:
    if isinstance(external_id, str) and account.external_id_taken(external_id, by_other_than=contact_id):
        raise ApiError(
            409,
            "External ID already exists, must be unique",
            "DUPLICATE_EXTERNAL_ID",
            {"externalId": external_id},
        )


def _write(account: Account, contact: Contact, changes: ContactChanges) -> None:
    if not isinstance(changes.first_name, _Unset):
        contact.first_name = changes.first_name
    if not isinstance(changes.last_name, _Unset):
        contact.last_name = changes.last_name
    if not isinstance(changes.phone_number, _Unset):
        contact.phone_number = changes.phone_number
    if not isinstance(changes.external_id, _Unset):
        account.set_external_id(contact, changes.external_id)
    if not isinstance(changes.external_url, _Unset):
        contact.external_url = changes.external_url
    if not isinstance(changes.salutation, _Unset):
        contact.salutation = changes.salutation
    if not isinstance(changes.email, _Unset):
        contact.email = changes.email
    if not isinstance(changes.timezone, _Unset):
        contact.timezone = changes.timezone or account.timezone
    if changes.custom is not None:
        contact.custom = {key: value for key, value in changes.custom.items() if value is not None}
    for key, value in changes.custom_merge.items():
        if value is None:
            contact.custom.pop(key, None)
        else:
            contact.custom[key] = value
