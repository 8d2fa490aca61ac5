"""Contact property definitions (v2, camelCase on the wire)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from telli_mcp.client.models.common import NullAsDefault, Timestamp, V2RequestModel, V2ResponseModel
from telli_mcp.client.models.wire import Clears, LocalOnly
from telli_mcp.client.types import PropertyDataType, PropertyKey

__all__ = [
    "PropertyCreate",
    "PropertyDataType",
    "PropertyDefinition",
    "PropertyOption",
    "PropertySource",
    "PropertyUpdate",
]


class PropertySource(StrEnum):
    """Who defined a contact property."""

    SYSTEM = "system"
    USER = "user"
    INTEGRATION = "integration"


class PropertyOption(V2ResponseModel):
    """One allowed value of a `select` or `multi_select` property (read from telli, and sent when creating a
    property or adding options; only `value`, `label` and `description` are sent)."""

    value: str
    """The stored value."""
    label: str | None = None
    """Display label."""
    description: str | None = None
    """Optional explanation shown to users."""


class PropertyDefinition(V2ResponseModel):
    """A contact property: its key, type and, for selects, its options."""

    key: str
    """Unique key, used in contacts' `properties`."""
    data_type: Annotated[PropertyDataType | str, Field(union_mode="left_to_right")]
    """Value type; a type telli adds later is kept as a plain string."""
    label: str | None = None
    """Display label."""
    source: Annotated[PropertySource | str | None, Field(union_mode="left_to_right")] = None
    """`system`, `user` or `integration`."""
    description: str | None = None
    """Optional explanation."""
    options: Annotated[list[PropertyOption], NullAsDefault] = Field(default_factory=list)
    """Allowed values (select and multi_select only); empty when telli sends none or null."""
    created_at: Timestamp | None = None
    """When the property was created."""
    updated_at: Timestamp | None = None
    """When the property was last changed."""


class PropertyCreate(V2RequestModel):
    """Body of `POST /v2/properties/contacts`."""

    key: PropertyKey
    """Unique key (1–64 characters: letters, digits, `_`, `-`; starts with a letter or digit)."""
    data_type: PropertyDataType
    """Value type."""
    label: str = Field(min_length=1)
    """Display label."""
    description: str | None = None
    """Optional explanation."""
    options: list[PropertyOption] | None = None
    """Allowed values; only for select and multi_select."""


class PropertyUpdate(V2RequestModel):
    """What to change on a property (`PATCH /v2/properties/contacts/{key}`); key and data type cannot change.

    None leaves a field unchanged. telli lets options be added but never removed, so there is no way to send
    a new options list: `add_options` is appended to the existing options by `Properties.update`.
    """

    label: str | None = Field(default=None, min_length=1)
    """New display label."""
    description: str | None = None
    """New explanation."""
    clear_description: Annotated[bool, Clears("description")] = False
    """Empty the explanation (sent as `"description": null`); cannot be combined with `description`."""
    add_options: Annotated[list[PropertyOption] | None, LocalOnly] = None
    """Options to add to a select or multi_select property; their values must be new."""
