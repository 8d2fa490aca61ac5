"""v2 contact property definitions: `/v2/properties/contacts`."""

from __future__ import annotations

from telli_mcp.client import _validate
from telli_mcp.client.models.common import Page
from telli_mcp.client.models.properties import PropertyCreate, PropertyDefinition, PropertyUpdate
from telli_mcp.client.resources._base import Resource

__all__ = ["Properties"]

_PATH = "/v2/properties/contacts"


class Properties(Resource):
    """Read and define the typed properties contacts can carry. telli has no endpoint to delete one."""

    async def list(self) -> list[PropertyDefinition]:
        """All property definitions (a single, unpaginated list)."""
        return (await self._http.request("GET", _PATH)).parse(Page[PropertyDefinition]).items

    async def get(self, key: str) -> PropertyDefinition:
        """One property definition by key."""
        path = f"{_PATH}/{_validate.property_key(key)}"
        return (await self._http.request("GET", path)).parse(PropertyDefinition)

    async def create(self, params: PropertyCreate) -> PropertyDefinition:
        """Define a new property (201)."""
        return (await self._http.request("POST", _PATH, json=params.to_wire())).parse(PropertyDefinition)

    async def update(self, key: str, params: PropertyUpdate) -> PropertyDefinition:
        """Change label, description or options; options given replace the whole list."""
        path = f"{_PATH}/{_validate.property_key(key)}"
        return (await self._http.request("PATCH", path, json=params.to_wire())).parse(PropertyDefinition)
