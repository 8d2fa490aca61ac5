"""The properties toolset: the typed schema of custom contact fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import AfterValidator, Field

from telli_mcp.client import TelliError
from telli_mcp.server.deps import deps_of
from telli_mcp.server.params import PropertyDataTypeArg, PropertyKeyArg
from telli_mcp.server.resources import as_json
from telli_mcp.server.results import ToolResult
from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Instruction, ResourceDef, Surface, ToolDef
from telli_mcp.server.views import PropertyView, property_view, skipped_note
from telli_mcp.text import optional, plain_text, visible_line

if TYPE_CHECKING:
    from telli_mcp.client import PropertyOption

__all__ = ["SURFACE", "PropertyList"]

PROPERTIES = "properties"

# Labels, descriptions and options are sent to telli without control, escape, bidi or invisible characters.
OptionArg = Annotated[str, AfterValidator(visible_line)]
LabelArg = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(visible_line)]
OptionalLabelArg = Annotated[str | None, Field(min_length=1, max_length=100), AfterValidator(optional(visible_line))]
DescriptionArg = Annotated[str | None, Field(max_length=500), AfterValidator(optional(plain_text))]
OptionsArg = Annotated[
    list[OptionArg] | None,
    Field(description="Required for select and multi_select, refused otherwise", max_length=200),
]
AddOptionsArg = Annotated[
    list[OptionArg] | None,
    Field(max_length=200),
]


class PropertyList(ToolResult):
    properties: list[PropertyView]
    note: str | None = None


def _options(values: list[str] | None) -> list[PropertyOption] | None:
    if values is None:
        return None
    from telli_mcp.client import PropertyOption

    return [PropertyOption(value=value, label=value) for value in values]


async def list_contact_properties(ctx: Context) -> PropertyList:
    """Custom contact properties (keys, types, options): read before writing properties."""
    page = await deps_of(ctx).client().properties.list()
    return PropertyList(
        properties=[property_view(d) for d in page.items], note=skipped_note(page.invalid_items, "properties")
    )


async def create_contact_property(
    key: PropertyKeyArg,
    data_type: PropertyDataTypeArg,
    label: LabelArg,
    ctx: Context,
    description: DescriptionArg = None,
    options: OptionsArg = None,
) -> PropertyView:
    """Define a custom contact property (a typed field); the API cannot delete it."""
    if data_type.has_options and not options:
        raise ToolError(f"options: a {data_type} property needs at least one option.")
    if options and not data_type.has_options:
        raise ToolError("options: only select and multi_select properties have options.")
    from telli_mcp.client import PropertyCreate

    created = (
        await deps_of(ctx)
        .client()
        .properties.create(
            PropertyCreate(
                key=key, data_type=data_type, label=label, description=description, options=_options(options)
            )
        )
    )
    return property_view(created)


async def update_contact_property(
    key: PropertyKeyArg,
    ctx: Context,
    label: OptionalLabelArg = None,
    description: DescriptionArg = None,
    add_options: AddOptionsArg = None,
) -> PropertyView:
    """Change a property's label or description, or add options (none can be removed)."""
    if label is None and description is None and not add_options:
        raise ToolError("Nothing to update: pass label, description or add_options.")
    from telli_mcp.client import PropertyUpdate

    updated = (
        await deps_of(ctx)
        .client()
        .properties.update(key, PropertyUpdate(label=label, description=description, add_options=_options(add_options)))
    )
    return property_view(updated)


async def properties_resource() -> str:
    """Every contact property: key, data type, label and allowed options. Read before writing properties."""
    # A static resource gets no request context: the deps and the caller's key come from the request's middleware.
    try:
        client = deps_of().client()
    except ToolError as err:
        raise ResourceError(str(err)) from None
    try:
        page = await client.properties.list()
    except TelliError as err:
        raise ResourceError(f"telli request failed: {type(err).__name__}") from None
    return as_json(
        PropertyList(
            properties=[property_view(d) for d in page.items], note=skipped_note(page.invalid_items, "properties")
        )
    )


SURFACE = Surface(
    PROPERTIES,
    tools=(
        ToolDef(
            ToolSpec("list_contact_properties", "List contact properties", PROPERTIES, Risk.READ, idempotent=True),
            list_contact_properties,
        ),
        ToolDef(
            ToolSpec("create_contact_property", "Create contact property", PROPERTIES, Risk.WRITE, idempotent=False),
            create_contact_property,
        ),
        ToolDef(
            ToolSpec("update_contact_property", "Update contact property", PROPERTIES, Risk.WRITE, idempotent=True),
            update_contact_property,
        ),
    ),
    resources=(ResourceDef("telli://properties", "Contact property schema", "application/json", properties_resource),),
    instructions=(
        Instruction(
            "- Before writing custom properties, call list_contact_properties (valid keys, types, select options).",
            uses=("list_contact_properties",),
        ),
    ),
)
