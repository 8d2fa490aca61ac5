"""Base classes of the wire models, timestamp helpers, tolerant reading and the generic `Page`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticUseDefault

from telli_mcp.client.models.wire import cleared_fields, wire_body

__all__ = [
    "EpochMillis",
    "InvalidItem",
    "NullAsDefault",
    "Page",
    "RequestModel",
    "ResponseModel",
    "Timestamp",
    "V2RequestModel",
    "V2ResponseModel",
    "validation_summary",
]

T = TypeVar("T")

ITEM_ID_KEYS = ("call_id", "id", "contact_id", "key")
"""Where a raw list item carries its id, in order of preference."""
MAX_ID_CHARS = 100


def _use_default_for_null(value: Any) -> Any:
    if value is None:
        raise PydanticUseDefault()
    return value


NullAsDefault = BeforeValidator(_use_default_for_null)
"""Field marker: `null` from telli reads as the field's default (an empty list or object), so a null where a
list or object is expected does not reject the whole response."""


def validation_summary(error: ValidationError, whole: str = "body") -> str:
    """What was wrong, without the input values: "<n> problem(s); first at <where>: <message>".

    `whole` names the validated value itself, for a problem that is not inside one of its fields.
    """
    first = error.errors(include_url=False, include_input=False, include_context=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or whole
    return f"{error.error_count()} problem(s); first at {where}: {first['msg']}"


class _WireModel(BaseModel):
    def to_wire(self) -> dict[str, Any]:
        """The JSON body: wire names; None fields left out unless telli documents null for them (see `wire`)."""
        return wire_body(self)


class ResponseModel(_WireModel):
    """A body telli sends (v1, snake_case). Unknown fields are kept in `model_extra`, so new API fields never
    break parsing."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class V2ResponseModel(ResponseModel):
    """A v2 body: camelCase on the wire, snake_case attributes in Python."""

    model_config = ConfigDict(alias_generator=to_camel)


class RequestModel(_WireModel):
    """A body the client sends (v1, snake_case). Unknown fields are rejected locally instead of being sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _not_set_and_cleared(self) -> Self:
        for name in cleared_fields(self):
            if getattr(self, name) is not None:
                raise ValueError(f"{name} is both set and cleared; pass a new value or clear it, not both")
        return self


class V2RequestModel(RequestModel):
    """A v2 request body: camelCase on the wire."""

    model_config = ConfigDict(alias_generator=to_camel)


def _from_epoch_millis(value: Any) -> Any:
    # v1 calls carry epoch milliseconds; ISO strings (webhooks, *_iso fields) pass through to pydantic.
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str) and value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    return value


def _assume_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


Timestamp = Annotated[datetime, AfterValidator(_assume_utc)]
"""A timezone-aware datetime read from an ISO-8601 string (UTC assumed when telli omits the offset)."""

EpochMillis = Annotated[datetime, BeforeValidator(_from_epoch_millis), AfterValidator(_assume_utc)]
"""A timezone-aware datetime read from epoch milliseconds (or an ISO string)."""


class InvalidItem(BaseModel):
    """A list item telli sent that does not have the expected shape; it is left out of `Page.items`."""

    index: int
    """Position of the item in telli's list on that page, from 0."""
    id: str | None = None
    """The item's own id (`call_id`, `id`, `contact_id` or `key`) when it carries one."""
    problem: str
    """What is wrong with it (never the item's data)."""


class Page(BaseModel, Generic[T]):
    """One page of a list.

    Reads the v2 envelope `{data, pageInfo: {hasNextPage, nextCursor | endCursor}}`, the v1 list-calls
    envelope `{calls, next_cursor}` and the unpaginated `{data}` lists. An item that does not have the expected
    shape does not reject the page: it is reported in `invalid_items` and the others are read.
    """

    items: list[T]
    """The items on this page that could be read."""
    next_cursor: str | None = None
    """Pass as `cursor` to fetch the next page; None on the last page (and for unpaginated lists)."""
    invalid_items: list[InvalidItem] = Field(default_factory=list)
    """Items telli sent on this page that could not be read, with their ids; empty when all were read."""

    @model_validator(mode="before")
    @classmethod
    def _read_envelope(cls, data: Any) -> Any:
        body = _unwrap_envelope(data)
        model = _item_model(cls.__pydantic_generic_metadata__["args"])
        if model is None or not isinstance(body, dict) or "invalid_items" in body:
            return body
        raw = body.get("items")
        if raw is None and "items" in body:  # `{"calls": null}` is an empty page, not a broken one
            raw = []
        if not isinstance(raw, list):
            return body
        items, invalid = _read_items(model, raw)
        return {**body, "items": items, "invalid_items": invalid}


def _item_model(args: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model of a `Page[Model]`'s items; None when it is not a model (nothing to read row by row)."""
    if args and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0]
    return None


def _unwrap_envelope(data: Any) -> Any:
    if isinstance(data, list):
        return {"items": data}
    if not isinstance(data, dict) or "items" in data:
        return data
    if "data" in data:
        return {"items": data["data"], "next_cursor": _v2_next_cursor(data.get("pageInfo"))}
    if "calls" in data:
        return {"items": data["calls"], "next_cursor": data.get("next_cursor")}
    return data


def _v2_next_cursor(page_info: Any) -> Any:
    if not isinstance(page_info, dict) or page_info.get("hasNextPage") is False:
        return None
    # Current docs name it nextCursor; an older docs version used endCursor.
    return page_info.get("nextCursor") or page_info.get("endCursor")


def _read_items(model: type[BaseModel], raw: Sequence[Any]) -> tuple[list[BaseModel], list[InvalidItem]]:
    items: list[BaseModel] = []
    invalid: list[InvalidItem] = []
    for index, value in enumerate(raw):
        try:
            items.append(model.model_validate(value))
        except ValidationError as exc:
            invalid.append(InvalidItem(index=index, id=_item_id(value), problem=validation_summary(exc, "item")))
    return items, invalid


def _item_id(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    for key in ITEM_ID_KEYS:
        found = value.get(key)
        if isinstance(found, str | int) and not isinstance(found, bool) and str(found):
            return str(found)[:MAX_ID_CHARS]
    return None
