"""Hand-written JSON renderers of the documented shapes: v1 snake_case, v2 and phone numbers camelCase."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .records import (
    Agent,
    Call,
    Contact,
    DataType,
    PhoneNumber,
    PropertyDefinition,
    PropertySource,
)
from .store import Account

__all__ = [
    "agent_v2",
    "call_v1",
    "collection_v2",
    "contact_batch_v1",
    "contact_external_v1",
    "contact_v1",
    "contact_v2",
    "epoch_ms",
    "iso",
    "phone_number_view",
    "property_definition_v2",
]

_SELECT_TYPES = (DataType.SELECT, DataType.MULTI_SELECT)


def iso(moment: datetime | None) -> str | None:
    """UTC ISO-8601 with milliseconds and `Z`, e.g. "2026-03-02T08:00:00.000Z"."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# -- contacts -----------------------------------------------------------------------------------------


def contact_v1(contact: Contact) -> dict[str, Any]:
    """Contact v1, full (§3.1): get-contact, get-call's `contact`."""
    return {
        "contact_id": contact.id,
        "external_contact_id": contact.external_id,
        "external_url": contact.external_url,
        "created_at": iso(contact.created_at),
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "phone_number": contact.phone_number,
        "email": contact.email,
        "salutation": contact.salutation,
        "timezone": contact.timezone,
        "contact_details": dict(contact.custom),
        "status": contact.status.value,
        "call_attempts": contact.call_attempts,
        "next_call_at": iso(contact.next_call_at),
        "reached_at": iso(contact.reached_at),
        "in_call_since": iso(contact.in_call_since),
    }


def contact_external_v1(contact: Contact) -> dict[str, Any]:
    """The documented subset returned by get-contact-by-external-id (§2.2)."""
    return {
        "contact_id": contact.id,
        "external_contact_id": contact.external_id,
        "external_url": contact.external_url,
        "created_at": iso(contact.created_at),
        "in_call_since": iso(contact.in_call_since),
        "reached_at": iso(contact.reached_at),
        "call_attempts": contact.call_attempts,
        "next_call_at": iso(contact.next_call_at),
    }


def contact_batch_v1(contact: Contact) -> dict[str, Any]:
    """The `contact` object of get-contacts-batch items (§2.2): no status, no timezone."""
    return {
        "contact_id": contact.id,
        "external_contact_id": contact.external_id,
        "external_url": contact.external_url,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "phone_number": contact.phone_number,
        "email": contact.email,
        "salutation": contact.salutation,
        "contact_details": dict(contact.custom),
        "created_at": iso(contact.created_at),
        "in_call_since": iso(contact.in_call_since),
        "reached_at": iso(contact.reached_at),
        "call_attempts": contact.call_attempts,
        "next_call_at": iso(contact.next_call_at),
    }


def contact_v2(contact: Contact, account: Account) -> dict[str, Any]:
    """Contact v2 (§3.2)."""
    return {
        "id": contact.id,
        "type": "Contact",
        "externalId": contact.external_id,
        "externalUrl": contact.external_url,
        "salutation": contact.salutation,
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "phoneNumber": contact.phone_number,
        "timezoneIana": contact.timezone,
        "email": contact.email,
        "createdAt": iso(contact.created_at),
        "updatedAt": iso(contact.updated_at),
        "properties": [_property_value_v2(key, value, account) for key, value in sorted(contact.custom.items())],
        "autoDialerStatus": "in_dialer" if account.active_loop_for(contact.id) else "not_in_dialer",
    }


def _property_value_v2(key: str, value: object, account: Account) -> dict[str, Any]:
    definition = account.user_property(key)
    if definition is None:
        # [I] a value written through v1 contact_details without a definition: shown as a string property.
        return {"key": key, "dataType": DataType.STRING.value, "value": value, "label": key, "options": []}
    return {
        "key": key,
        "dataType": definition.data_type.value,
        "value": value,
        "label": definition.label,
        "options": _options(definition),
    }


# -- properties, agents, phone numbers -----------------------------------------------------------------


def property_definition_v2(definition: PropertyDefinition) -> dict[str, Any]:
    """PropertyDefinition (§3.3); `description` and `options` only when they apply."""
    body: dict[str, Any] = {
        "type": "ContactProperty",
        "key": definition.key,
        "dataType": definition.data_type.value,
        "source": definition.source.value,
        "label": definition.label,
        "createdAt": iso(definition.created_at),
        "updatedAt": iso(definition.updated_at),
    }
    if definition.description is not None:
        body["description"] = definition.description
    if definition.data_type in _SELECT_TYPES and definition.source is not PropertySource.SYSTEM:
        body["options"] = _options(definition)
    return body


def _options(definition: PropertyDefinition) -> list[dict[str, Any]]:
    rendered = []
    for option in definition.options:
        item: dict[str, Any] = {"value": option.value, "label": option.label}
        if option.description is not None:
            item["description"] = option.description
        rendered.append(item)
    return rendered


def agent_v2(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "type": "Agent",
        "title": agent.title,
        "language": agent.language,
        "createdAt": iso(agent.created_at),
    }


def phone_number_view(number: PhoneNumber) -> dict[str, Any]:
    """PhoneNumber (§3.7): camelCase although it is a v1 endpoint. The SIP credentials never appear."""
    return {
        "type": "PhoneNumber",
        "id": number.id,
        "phoneNumber": number.phone_number,
        "inOutboundPool": number.in_outbound_pool,
        "phoneNumberType": number.phone_number_type,
        "createdAt": iso(number.created_at),
    }


# -- calls ----------------------------------------------------------------------------------------------


def call_v1(call: Call) -> dict[str, Any]:
    """Call (§3.5): epoch-millisecond timestamps plus `*_iso`, and the camelCase `transcriptObject`."""
    return {
        "call_id": call.call_id,
        "attempt": call.attempt,
        "from_number": call.from_number,
        "to_number": call.to_number,
        "direction": call.direction,
        "contact_id": call.contact_id,
        "external_contact_id": call.external_contact_id,
        "agent_id": call.agent_id,
        "loop_id": call.loop_id,
        "triggered_at": epoch_ms(call.triggered_at),
        "triggered_at_iso": iso(call.triggered_at),
        "started_at": epoch_ms(call.started_at),
        "started_at_iso": iso(call.started_at),
        "ended_at": epoch_ms(call.ended_at),
        "ended_at_iso": iso(call.ended_at),
        "call_length_min": call.call_length_min,
        "call_status": call.call_status.value,
        "transcript": "\n".join(f"{line.role.capitalize()}: {line.content}" for line in call.transcript),
        "transcriptObject": [{"role": line.role, "content": line.content} for line in call.transcript],
        "call_analysis": {
            name: {"value": entry.value, "details": entry.details} for name, entry in call.call_analysis.items()
        },
        "call_outcome": {name: {"value": value} for name, value in call.call_outcome.items()},
        "collected_data": {
            name: {"status": item.status, "value": item.value} for name, item in call.collected_data.items()
        },
        "booked_slot_for": iso(call.booked_slot_for),
        "recording_url": call.recording_url,
        "ended_reason": call.ended_reason,
    }


def collection_v2(type_name: str, data: list[dict[str, Any]], *, next_cursor: str | None, limit: int) -> dict[str, Any]:
    """A v2 page (§5.2): `nextCursor` (current docs) and `endCursor` (older docs) carry the same cursor."""
    return {
        "type": type_name,
        "data": data,
        "pageInfo": {
            "hasNextPage": next_cursor is not None,
            "nextCursor": next_cursor,
            "endCursor": next_cursor,
        },
        "meta": {"limit": limit, "count": len(data)},
    }
