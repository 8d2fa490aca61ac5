"""Checks on path and query parameters, run before any request is sent (failures raise InputError)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter, ValidationError

from telli_mcp.client.errors import InputError
from telli_mcp.client.types import AgentId, ContactId, PropertyKey

__all__ = ["agent_id", "page_limit", "path_segment", "property_key", "uuid_id"]

MAX_PAGE_LIMIT = 100

_UUID: TypeAdapter[str] = TypeAdapter(ContactId)
_AGENT_ID: TypeAdapter[str] = TypeAdapter(AgentId)
_PROPERTY_KEY: TypeAdapter[str] = TypeAdapter(PropertyKey)


def _check(adapter: TypeAdapter[str], value: Any, field: str, expected: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "must be a non-empty string")
    try:
        return adapter.validate_python(value)
    except ValidationError:
        raise InputError(field, f"{value!r} is not {expected}") from None


def uuid_id(value: Any, field: str) -> str:
    """A telli id documented as a UUID, in canonical form."""
    return _check(_UUID, value, field, "a UUID (telli ids look like 3c90c3cc-0d44-4b50-8888-8dd25736052a)")


def agent_id(value: Any, field: str = "agent_id") -> str:
    """An agent id: a UUID, in canonical form."""
    return _check(_AGENT_ID, value, field, "an agent id (a UUID; list_agents shows them)")


def property_key(value: Any, field: str = "key") -> str:
    """A contact property key."""
    return _check(_PROPERTY_KEY, value, field, "a property key (1-64 letters, digits, _ or -)")


def path_segment(value: Any, field: str) -> str:
    """A free-form id (such as an external id) percent-encoded for use as one path segment."""
    if not isinstance(value, str) or not value:
        raise InputError(field, "must be a non-empty string")
    return quote(value, safe="")


def page_limit(value: Any, field: str = "limit") -> int:
    """A page size accepted by telli's list endpoints (1-100)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_LIMIT:
        raise InputError(field, f"must be an integer from 1 to {MAX_PAGE_LIMIT}, got {value!r}")
    return value
