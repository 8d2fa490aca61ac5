"""v2 contact property definitions: `/v2/properties/contacts`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telli_mcp.client import _validate
from telli_mcp.client.errors import InputError
from telli_mcp.client.models.common import Page
from telli_mcp.client.models.properties import (
    PropertyCreate,
    PropertyDataType,
    PropertyDefinition,
    PropertyOption,
    PropertyUpdate,
)
from telli_mcp.client.resources._base import Resource

__all__ = ["Properties"]

_PATH = "/v2/properties/contacts"


class Properties(Resource):
    """Read and define the typed properties contacts can carry. telli has no endpoint to delete one."""

    async def list(self) -> Page[PropertyDefinition]:
        """All property definitions (a single, unpaginated page: `next_cursor` is always None).

        A definition in an unreadable shape is left out of `items` and listed in `invalid_items`.
        """
        return (await self._http.request("GET", _PATH)).parse(Page[PropertyDefinition])

    async def get(self, key: str) -> PropertyDefinition:
        """One property definition by key."""
        path = f"{_PATH}/{_validate.property_key(key)}"
        return (await self._http.request("GET", path)).parse(PropertyDefinition)

    async def create(self, params: PropertyCreate) -> PropertyDefinition:
        """Define a new property (201)."""
        return (await self._http.request("POST", _PATH, json=params.to_wire())).parse(PropertyDefinition)

    async def update(self, key: str, params: PropertyUpdate) -> PropertyDefinition:
        """Change label or description, and add options (`PATCH`).

        telli cannot remove options and expects the full list on PATCH, so with `add_options` the current
        definition is read first and `options` is sent as the existing options followed by the new ones.
        Another change made between that read and the PATCH can be lost (telli has no version check).

        Raises:
            InputError: before any write, when `add_options` is given for a property that is not a select or
                multi_select (`add_options`), or an added value already exists or repeats (`add_options[i]`).
        """
        path = f"{_PATH}/{_validate.property_key(key)}"
        body = params.to_wire()
        if params.add_options:
            current = await self.get(key)
            body["options"] = [option.to_wire() for option in _with_added(current, params.add_options)]
        return (await self._http.request("PATCH", path, json=body)).parse(PropertyDefinition)


def _with_added(current: PropertyDefinition, added: Sequence[PropertyOption]) -> list[PropertyOption]:
    """The existing options followed by `added`, after checking the additions are possible."""
    if not (isinstance(current.data_type, PropertyDataType) and current.data_type.has_options):
        raise InputError(
            "add_options",
            f"property {current.key!r} is {current.data_type}; only select and multi_select properties have options",
        )
    taken: set[Any] = {option.value for option in current.options}
    for index, option in enumerate(added):
        if option.value in taken:
            raise InputError(
                f"add_options[{index}]", f"option value {option.value!r} already exists on {current.key!r}"
            )
        taken.add(option.value)
    return [*current.options, *added]
