"""What `find_contacts` asks the contact index: one query model, shared by the index (which answers it with SQL)
and the bulk tools (which take a selection as a query or as ids).

Pure data: no SQLite, no HTTP, no `mcp`. Every filter is optional and they combine with AND; an empty query
selects every contact of the tenant.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

__all__ = ["ContactQuery", "DialerState", "PropertyScalar"]

PropertyScalar = StrictStr | StrictBool | StrictInt | StrictFloat
"""A property value a filter compares with (the value as telli keeps it: text, number or boolean)."""


class DialerState(StrEnum):
    """Where a contact stands with the auto-dialer (telli's four, plus `in_call` while a call is live)."""

    NEW = "new"
    PENDING = "pending"
    REACHED = "reached"
    CLOSED = "closed"
    IN_CALL = "in_call"


class ContactQuery(BaseModel):
    """Contacts matching every given filter."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on the first query

    name: Annotated[StrictStr | None, Field(min_length=1, max_length=100)] = None
    """Matched loosely: accents, letter case, word order and small typos do not matter."""
    phone: Annotated[StrictStr | None, Field(min_length=3, max_length=40)] = None
    """Any format; compared in E.164."""
    external_id: Annotated[StrictStr | None, Field(min_length=1, max_length=200)] = None
    property_equals: dict[StrictStr, PropertyScalar] = Field(default_factory=dict)
    property_in: dict[StrictStr, Annotated[list[PropertyScalar], Field(min_length=1, max_length=100)]] = Field(
        default_factory=dict
    )
    property_empty: Annotated[list[StrictStr], Field(max_length=50)] = Field(default_factory=list)
    """Keys that have no value (absent, null or empty text)."""
    dialer_state: Annotated[list[DialerState], Field(max_length=5)] = Field(default_factory=list)
    """Any of these states."""
    reached_before: AwareDatetime | None = None
    """Contacts not reached since this moment: reached earlier, or never ("not reached this week")."""
    reached_after: AwareDatetime | None = None
    last_called_before: AwareDatetime | None = None
    """Contacts called before this moment, or never called."""
    last_called_after: AwareDatetime | None = None
    created_before: AwareDatetime | None = None
    created_after: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ranges_make_sense(self) -> Self:
        for field in ("reached", "last_called", "created"):
            after: datetime | None = getattr(self, f"{field}_after")
            before: datetime | None = getattr(self, f"{field}_before")
            if after is not None and before is not None and after >= before:
                raise ValueError(f"{field}_after must be earlier than {field}_before")
        return self

    def is_empty(self) -> bool:
        """True when no filter is given (the query selects every contact)."""
        return self == ContactQuery()
