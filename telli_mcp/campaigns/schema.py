"""The account's contact-property schema, as validation needs it."""

from __future__ import annotations

from telli_mcp.campaigns.values import PropertyOption, PropertySpec
from telli_mcp.client import PropertyDefinition, PropertySource, TelliClient

__all__ = ["fetch_property_specs", "to_specs"]


def to_specs(definitions: list[PropertyDefinition]) -> list[PropertySpec]:
    """User and integration properties; system ones (firstName, phoneNumber, ...) are the lead fields."""
    return [
        PropertySpec(
            key=definition.key,
            data_type=str(definition.data_type),
            options=tuple(PropertyOption(value=option.value, label=option.label) for option in definition.options),
        )
        for definition in definitions
        if definition.source != PropertySource.SYSTEM
    ]


async def fetch_property_specs(client: TelliClient) -> list[PropertySpec]:
    """One request: `GET /v2/properties/contacts`."""
    return to_specs((await client.properties.list()).items)
