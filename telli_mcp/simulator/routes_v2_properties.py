"""v2 contact-property endpoints (§2.6): list, create, get, update. There is no delete."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from .endpoint import ApiRequest, Backend, json_response, make_route
from .errors import ApiError, bad_request
from .records import DataType, PropertyDefinition, PropertyOption, PropertySource
from .validation import BodyReader, is_property_key
from .views import property_definition_v2

__all__ = ["routes"]

_SELECT_TYPES = (DataType.SELECT, DataType.MULTI_SELECT)


def routes(backend: Backend) -> list[Route]:
    def route(path: str, method: str, handler: Any) -> Route:
        return make_route(path, method, handler, version="v2", backend=backend)

    return [
        route("/v2/properties/contacts", "GET", list_properties),
        route("/v2/properties/contacts", "POST", create),
        route("/v2/properties/contacts/{key}", "GET", get),
        route("/v2/properties/contacts/{key}", "PATCH", update),
    ]


async def list_properties(req: ApiRequest) -> Response:
    return json_response({"data": [property_definition_v2(d) for d in req.account.properties.values()]})


async def get(req: ApiRequest) -> Response:
    return json_response(property_definition_v2(_definition(req)))


async def create(req: ApiRequest) -> Response:
    body = await req.body()
    key = body.required_str("key")
    if not is_property_key(key):
        raise bad_request("key must be 1-64 characters matching ^[a-zA-Z0-9][a-zA-Z0-9_-]*$", field_name="key")
    data_type = _data_type(body.required_str("dataType"))
    label = body.required_str("label")
    description = body.optional_str("description")
    options = _options(body, data_type) if body.data.get("options") is not None else []
    if key in req.account.properties:
        raise ApiError(409, f"Property '{key}' already exists", "PROPERTY_ALREADY_EXISTS", {"key": key})
    definition = req.account.add_property(key, data_type, label, description=description, options=options)
    return json_response(property_definition_v2(definition), 201)


async def update(req: ApiRequest) -> Response:
    definition = _definition(req)
    body = await req.body()
    if definition.source is PropertySource.SYSTEM:
        raise bad_request("System properties cannot be updated", field_name="key")  # [I]
    if body.has("label"):
        definition.label = body.required_str("label")
    if body.has("description"):
        definition.description = body.optional_str("description")
    if body.has("options"):
        definition.options = _kept_options(definition, _options(body, definition.data_type))
    definition.updated_at = req.backend.clock.now()
    return json_response(property_definition_v2(definition))


def _definition(req: ApiRequest) -> PropertyDefinition:
    key = req.path_param("key")
    definition = req.account.properties.get(key)
    if definition is None:
        raise ApiError(404, f"Property '{key}' not found", "PROPERTY_NOT_FOUND", {"key": key})
    return definition


def _data_type(raw: str) -> DataType:
    try:
        return DataType(raw)
    except ValueError:
        allowed = ", ".join(data_type.value for data_type in DataType)
        raise bad_request(f"dataType must be one of {allowed}", field_name="dataType") from None


def _kept_options(definition: PropertyDefinition, options: list[PropertyOption]) -> list[PropertyOption]:
    """The V2 migration guide: "You cannot change the data type or remove existing options"."""
    given = {option.value for option in options}
    removed = [value for value in definition.option_values() if value not in given]
    if removed:
        raise bad_request(
            f"options cannot be removed; the list must still include: {', '.join(removed)}", field_name="options"
        )
    return options


def _options(body: BodyReader, data_type: DataType) -> list[PropertyOption]:
    """The options list (sent whole on update); only select and multi_select have options."""
    raw = body.required_list("options")
    if data_type not in _SELECT_TYPES:
        raise bad_request("options are only applicable for select and multi_select", field_name="options")
    options: list[PropertyOption] = []
    for item in raw:
        option = BodyReader(item) if isinstance(item, dict) else None
        if option is None:
            raise bad_request("options must be objects with value and label", field_name="options")
        value = option.required_str("value")
        if value in (existing.value for existing in options):
            raise bad_request(f"duplicate option value '{value}'", field_name="options")
        options.append(PropertyOption(value, option.required_str("label"), option.optional_str("description")))
    return options
