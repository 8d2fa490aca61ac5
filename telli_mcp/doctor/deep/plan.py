"""Which reads the deep check makes, in order: each list first, then one get by an id that list gave.

14 requests when the account has data: a small first page of each list (`LIST_LIMIT`) is enough to see every
field's shape, and keeps the answers (and the time) short on large accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telli_mcp.doctor.deep.session import Session

__all__ = ["LIST_LIMIT", "PLANNED_REQUESTS", "run_plan"]

LIST_LIMIT = 5
PLANNED_REQUESTS = 14


@dataclass(frozen=True)
class _Picked:
    """Values taken from a list answer to ask with, or why there are none."""

    values: list[str]
    reason: str


async def run_plan(session: Session) -> None:
    await session.check("verify-api-key")
    agents = await session.check("list-agents", params={"limit": LIST_LIMIT})
    await _get(session, "get-agent", "agentId", _pick(agents, "list-agents", "data", "id", "agents"))
    await session.check("list-phone-numbers")
    properties = await session.check("list-contact-properties")
    await _get(
        session,
        "get-contact-property",
        "key",
        _pick(properties, "list-contact-properties", "data", "key", "contact properties"),
    )
    await _contacts(session)
    calls = await session.check("list-calls", params={"limit": LIST_LIMIT})
    await _get(session, "get-call", "callId", _pick(_ended_first(calls), "list-calls", "calls", "call_id", "calls"))


async def _contacts(session: Session) -> None:
    page = await session.check("list-contacts", params={"limit": LIST_LIMIT})
    contacts = _pick(page, "list-contacts", "data", "id", "contacts")
    await _get(session, "get-contact", "contactId", contacts)
    await _get(session, "get-contact-v1", "contactId", contacts)
    if contacts.values:
        await session.check("get-contacts-batch", json={"contact_ids": contacts.values})
    else:
        session.skip("get-contacts-batch", contacts.reason)
    external = _pick(
        page,
        "list-contacts",
        "data",
        "externalId",
        "contacts",
        absent="no contact on the first page has an external id",
    )
    await _get(session, "get-contact-by-external-id", "externalId", external)
    await _get(session, "get-contact-by-external-id-v1", "external_contact_id", external)


async def _get(session: Session, operation_id: str, name: str, picked: _Picked) -> None:
    """One get by the first value picked, or "not checked" with the reason there is none."""
    if picked.values:
        await session.check(operation_id, path_values={name: picked.values[0]})
    else:
        session.skip(operation_id, picked.reason)


def _pick(body: Any, source: str, list_key: str, field: str, noun: str, *, absent: str | None = None) -> _Picked:
    """The non-empty `field` strings of the items listed under `list_key`, tolerating any drifted shape."""
    if body is None:
        return _Picked([], f"{source} gave no answer to take {noun} from")
    items = body.get(list_key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        return _Picked([], f"{source} has no readable {list_key} list")
    if not items:
        return _Picked([], f"no {noun} yet")
    values = [
        item[field] for item in items if isinstance(item, dict) and isinstance(item.get(field), str) and item[field]
    ]
    return _Picked(values, absent or f"{source} gave no usable {field}")


def _ended_first(body: Any) -> Any:
    """The calls page with ended calls first: an unfinished call may answer 404 (see the contract's get-call)."""
    if not isinstance(body, dict) or not isinstance(body.get("calls"), list):
        return body
    calls = body["calls"]
    ended = [call for call in calls if isinstance(call, dict) and call.get("ended_at") is not None]
    return {**body, "calls": ended + [call for call in calls if call not in ended]}
