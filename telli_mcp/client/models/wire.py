"""What a request model puts on the wire: the one place that decides between "omitted" and "null".

telli validates request bodies by schema: a field documented as optional is left out when it has no value,
and `null` is sent only where the contract documents it as nullable *and* null means something (reference §1,
"Optional vs nullable"). So `None` means "not given" everywhere, except on fields marked here:

- `SendsNull`: None is sent as `null` (a property value of None clears that property on v2 PATCH).
- `Clears(...)`: a local-only field naming fields to send as `null` (an explicit "clear this" request).
- `LocalOnly`: a field that steers the client and never reaches telli itself.

The rules apply at every nesting level; values are serialised by pydantic first (enums, dates, aliases), and
only the choice of which keys to keep is made here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

__all__ = ["Clears", "LocalOnly", "SendsNull", "cleared_fields", "wire_body", "wire_name"]


class _SendsNull:
    def __repr__(self) -> str:
        return "SendsNull"


class _LocalOnly:
    def __repr__(self) -> str:
        return "LocalOnly"


SendsNull: Final = _SendsNull()
"""`Annotated` marker: None on this field is sent as `null`, because telli gives null a meaning there."""

LocalOnly: Final = _LocalOnly()
"""`Annotated` marker: the field is an instruction to the client and is never sent."""


@dataclass(frozen=True)
class Clears:
    """`Annotated` marker of a local-only field that asks for fields to be sent as `null`.

    `Clears()` on a collection of field names clears each named field; `Clears("description")` on a bool
    clears that one field when the bool is true. A field cannot be set and cleared at once.
    """

    field: str | None = None


def _marker(field: FieldInfo, kind: type[Any]) -> Any:
    return next((item for item in field.metadata if isinstance(item, kind)), None)


@dataclass(frozen=True, slots=True)
class _Sent:
    """A field that may reach telli: its attribute, its key in the body, and whether None is sent as null."""

    name: str
    key: str
    sends_null: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the rules above make of one model class, read once from its fields' markers (a bulk request
    serialises the same class thousands of times; reading every marker again per item cost more than the
    rest of the serialisation)."""

    fields: dict[str, FieldInfo]
    """The class's fields the plan was read from (a rebuilt model gets a new dict, and a new plan)."""
    sent: tuple[_Sent, ...]
    clears: tuple[tuple[str, str | None], ...]
    """(attribute, `Clears.field`) of each `Clears` field."""


_PLANS: dict[type[BaseModel], _Plan] = {}


def _plan(cls: type[BaseModel]) -> _Plan:
    fields = cls.__pydantic_fields__
    plan = _PLANS.get(cls)
    if plan is None or plan.fields is not fields:
        plan = _PLANS[cls] = _read_plan(fields)
    return plan


def _read_plan(fields: dict[str, FieldInfo]) -> _Plan:
    sent: list[_Sent] = []
    clears: list[tuple[str, str | None]] = []
    for name, field in fields.items():
        marker = _marker(field, Clears)
        if marker is not None:
            clears.append((name, marker.field))
        elif not _marker(field, _LocalOnly):
            sent.append(_Sent(name, _key(field, name), _marker(field, _SendsNull) is not None))
    return _Plan(fields=fields, sent=tuple(sent), clears=tuple(clears))


def _key(field: FieldInfo, name: str) -> str:
    return field.serialization_alias or field.alias or name


def wire_name(model: type[BaseModel], name: str) -> str:
    """The key of field `name` in a JSON body (its alias, e.g. camelCase on v2)."""
    return _key(model.model_fields[name], name)


def cleared_fields(model: BaseModel) -> Iterator[str]:
    """The names of the fields `model` asks to send as null through its `Clears` fields."""
    for name, clears in _plan(type(model)).clears:
        value = getattr(model, name)
        if clears is not None:
            if value:
                yield clears
        elif isinstance(value, Iterable):
            yield from sorted(str(item) for item in value)


def wire_body(model: BaseModel) -> dict[str, Any]:
    """The JSON body of `model` under the rules above."""
    dumped = model.model_dump(mode="json", by_alias=True)
    return _prune(model, dumped)


def _prune(model: BaseModel, dumped: dict[str, Any]) -> dict[str, Any]:
    cls = type(model)
    plan = _plan(cls)
    body: dict[str, Any] = {}
    for field in plan.sent:
        key = field.key
        if key not in dumped:
            continue
        value = getattr(model, field.name)
        if value is None and not field.sends_null:
            continue
        body[key] = _wire_value(value, dumped[key])
    if plan.clears:
        for name in cleared_fields(model):
            body[wire_name(cls, name)] = None
    # Extra fields (kept on models read from telli) are not part of the documented request schema.
    return body


def _wire_value(value: Any, dumped: Any) -> Any:
    if isinstance(dumped, dict):
        return _prune(value, dumped) if isinstance(value, BaseModel) else dumped
    if isinstance(dumped, list):
        if isinstance(value, list | tuple):
            return [_wire_value(item, item_dumped) for item, item_dumped in zip(value, dumped, strict=True)]
        return dumped
    if isinstance(value, SecretStr):
        # The one place a secret is revealed: the request body itself. Reprs and dumps keep it masked.
        return value.get_secret_value()
    return dumped
