"""Base classes of the wire models, timestamp helpers and the generic `Page`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "EpochMillis",
    "Page",
    "RequestModel",
    "ResponseModel",
    "Timestamp",
    "V2RequestModel",
    "V2ResponseModel",
]

T = TypeVar("T")


class ResponseModel(BaseModel):
    """A body telli sends (v1, snake_case). Unknown fields are kept in `model_extra`, so new API fields never
    break parsing."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, use_attribute_docstrings=True)


class V2ResponseModel(ResponseModel):
    """A v2 body: camelCase on the wire, snake_case attributes in Python."""

    model_config = ConfigDict(alias_generator=to_camel)


class RequestModel(BaseModel):
    """A body the client sends (v1, snake_case). Unknown fields are rejected locally instead of being sent."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, use_attribute_docstrings=True)

    def to_wire(self) -> dict[str, Any]:
        """The JSON body: wire names, only the fields that were set (so an explicit None is sent as null)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


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


class Page(BaseModel, Generic[T]):
    """One page of a cursor-paginated list.

    Reads the v2 envelope `{data, pageInfo: {hasNextPage, nextCursor | endCursor}}` and the v1 list-calls
    envelope `{calls, next_cursor}`.
    """

    items: list[T]
    """The items on this page."""
    next_cursor: str | None = None
    """Pass as `cursor` to fetch the next page; None on the last page."""

    @model_validator(mode="before")
    @classmethod
    def _unwrap_envelope(cls, data: Any) -> Any:
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
