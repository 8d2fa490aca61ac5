"""Schema compaction: input schemas accept and refuse what pydantic's do; output schemas only get looser."""

from __future__ import annotations

from typing import Any, Literal

from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field

from telli_mcp.server.results import ToolResult
from telli_mcp.server.schema_compact import compact_input_schema, compact_output_schema


class Filter(BaseModel):
    kind: Literal["a", "b"]


class Arguments(BaseModel):
    contact_id: str = Field(pattern=r"^[0-9a-f-]{36}$", description="Contact id")
    limit: int = Field(20, ge=1, le=100)
    cursor: str | None = Field(None, max_length=8, description="next_cursor")
    tags: list[str] = Field(default_factory=list, max_length=2)
    dry_run: bool = False
    filters: list[Filter] | None = None
    other: Filter | None = None


ID = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
ARGUMENTS = [
    {"contact_id": ID},
    {"contact_id": ID, "limit": 100, "cursor": "abc", "tags": ["x", "y"], "dry_run": True},
    {"contact_id": ID, "filters": [{"kind": "a"}], "other": {"kind": "b"}},
    {},
    {"contact_id": "nope"},
    {"contact_id": ID, "limit": 0},
    {"contact_id": ID, "limit": "20"},
    {"contact_id": ID, "cursor": "123456789"},
    {"contact_id": ID, "tags": ["x", "y", "z"]},
    {"contact_id": ID, "filters": [{"kind": "c"}]},
    {"contact_id": ID, "other": {}},
]


def _valid(schema: dict[str, Any], instance: object) -> bool:
    return Draft202012Validator(schema).is_valid(instance)


def _keyword_anywhere(node: object, keyword: str) -> bool:
    if isinstance(node, list):
        return any(_keyword_anywhere(item, keyword) for item in node)
    if not isinstance(node, dict):
        return False
    if keyword in node and not isinstance(node[keyword], dict):
        return True
    return any(_keyword_anywhere(value, keyword) for value in node.values())


def test_an_input_schema_accepts_and_refuses_the_same_arguments_with_fewer_bytes() -> None:
    full = Arguments.model_json_schema()
    compact = compact_input_schema(full)
    for arguments in ARGUMENTS:
        assert _valid(compact, arguments) == _valid(full, arguments), arguments
    assert len(str(compact)) < len(str(full))
    assert not _keyword_anywhere(compact, "title")
    # An optional argument is one type, with its constraint and its description kept.
    assert compact["properties"]["cursor"] == {"type": "string", "maxLength": 8, "description": "next_cursor"}
    assert compact["properties"]["contact_id"]["description"] == "Contact id"


class Row(ToolResult):
    row_id: str
    note: str | None = None


class Listing(ToolResult):
    rows: list[Row]
    next_cursor: str | None
    status: Literal["ok", "partial"]
    required: bool = False
    """A field that happens to share the name of the keyword."""
    count: int = Field(0, ge=0, description="Rows in all")


RESULTS = [
    Listing(rows=[], next_cursor=None, status="ok"),
    Listing(rows=[Row(row_id="a"), Row(row_id="b", note="n")], next_cursor="c", status="partial", required=True),
]
NOT_RESULTS: list[object] = [
    {"rows": [{"row_id": 1}], "next_cursor": None, "status": "ok"},
    {"rows": [], "next_cursor": 5, "status": "ok"},
    {"rows": [], "next_cursor": None, "status": "bogus"},
    {"rows": "none", "next_cursor": None, "status": "ok"},
    [],
]


def test_an_output_schema_loses_only_what_a_validator_reads_and_every_result_still_validates() -> None:
    full = Listing.model_json_schema()
    compact = compact_output_schema(full)
    for result in RESULTS:
        dumped = result.model_dump(mode="json")
        assert _valid(full, dumped) and _valid(compact, dumped), dumped
    for instance in NOT_RESULTS:  # looser, but it still says what each field is
        assert not _valid(compact, instance), instance
    assert not _keyword_anywhere(compact, "required") and not _keyword_anywhere(compact, "description")
    assert "$defs" not in compact  # the row, used once, is inlined
    assert compact["type"] == "object"  # MCP requires it at the top
    assert compact["properties"]["rows"]["items"] == {
        "properties": {"row_id": {"type": "string"}, "note": {"type": "string"}}
    }
    # Always present but possibly null: keeps its null arm. Left out when empty: loses it.
    assert compact["properties"]["next_cursor"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert compact["properties"]["required"] == {"type": "boolean"}
    assert compact["properties"]["count"] == {"type": "integer", "minimum": 0}
