"""What a tool result costs the model: compact text, structured content that matches the output schema."""

from __future__ import annotations

import json

import jsonschema
import pytest
from server_helpers import ServerFactory, connect, contact_id_of, text_of

pytestmark = pytest.mark.anyio


def _without_nulls(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


async def test_text_block_is_the_structured_result_as_compact_json_without_nulls(
    make_server: ServerFactory, mode: str
) -> None:
    async with connect(make_server(), mode) as client:
        contact_id = await contact_id_of(client, "crm-123")
        result = await client.call_tool("get_contact", {"contact_id": contact_id})
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    text = text_of(result)
    assert json.loads(text) == _without_nulls(result.structured_content)
    assert "\n" not in text and ": " not in text
    jsonschema.validate(result.structured_content, tools["get_contact"].output_schema or {})


async def test_call_results_validate_against_their_output_schemas(make_server: ServerFactory) -> None:
    async with connect(make_server(), "auto") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        calls = await client.call_tool("list_calls", {"limit": 5})
        call_id = calls.structured_content["calls"][0]["call_id"]  # type: ignore[index]
        detail = await client.call_tool("get_call", {"call_id": call_id, "include_transcript": True})
        status = await client.call_tool("get_status", {})
    for name, result in (("list_calls", calls), ("get_call", detail), ("get_status", status)):
        jsonschema.validate(result.structured_content, tools[name].output_schema or {})
