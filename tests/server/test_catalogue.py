"""The tool catalogue: snapshot, size budget, annotations, toolsets and read-only filtering."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from server_helpers import ServerFactory, connect

from telli_mcp.server import UnknownToolsetError

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"
CATALOGUE_BUDGET = 20 * 1024
"""Bytes of the default tools/list as compact JSON, sent to every client on every connection (issue 13)."""
DEFAULT_TOOLS = {
    "get_status",
    "create_contact",
    "get_contact",
    "list_contacts",
    "update_contact",
    "delete_contact",
    "list_contact_properties",
    "create_contact_property",
    "update_contact_property",
    "schedule_calls",
    "call_now",
    "cancel_scheduled_calls",
    "list_calls",
    "get_call",
    "get_call_transcript",
    "list_agents",
    "list_phone_numbers",
    "start_campaign",
    "get_campaign",
    "list_campaigns",
    "stop_campaign",
}
FORMATS = {"phone_number": "E.164", "from_number": "E.164", "timezone": "IANA", "confirmation_token": "user agreed"}
"""What an argument's description must say where its name leaves the format (or the rule) open."""
CONFIRMED = {
    "delete_contact",
    "call_now",
    "schedule_calls",
    "replace_phone_number",
    "delete_phone_number",
    "start_campaign",
    "remove_from_do_not_call",
    "update_contacts",
    "reschedule_contacts",
}


async def _tools(make_server: ServerFactory, mode: str = "auto", **settings: Any) -> list[dict[str, Any]]:
    async with connect(make_server(**settings), mode) as client:
        listed = await client.list_tools()
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in listed.tools]


async def test_catalogue_matches_the_committed_snapshot(make_server: ServerFactory) -> None:
    catalogue = sorted(await _tools(make_server, toolsets=("all",)), key=lambda tool: tool["name"])
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(catalogue, indent=2, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    assert catalogue == expected, "tool catalogue changed: review, then run with UPDATE_SNAPSHOTS=1"


async def test_default_tools_list_stays_within_20_kb_in_both_eras(make_server: ServerFactory, mode: str) -> None:
    tools = await _tools(make_server, mode)
    assert {tool["name"] for tool in tools} == DEFAULT_TOOLS
    size = len(json.dumps({"tools": tools}, separators=(",", ":")).encode())
    assert size <= CATALOGUE_BUDGET, f"default tools/list is {size:,} bytes, over the {CATALOGUE_BUDGET:,} budget"


async def test_every_tool_sets_all_four_annotations_and_a_title_and_an_output_schema(
    make_server: ServerFactory,
) -> None:
    for tool in await _tools(make_server, toolsets=("all",)):
        hints = tool["annotations"]
        for hint in ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"):
            assert isinstance(hints.get(hint), bool), (tool["name"], hint)
        assert tool["title"] and tool["description"] and tool["outputSchema"]
        assert hints["destructiveHint"] == (tool["name"] in CONFIRMED), tool["name"]
        assert "confirmation_token" in tool["inputSchema"]["properties"] or tool["name"] not in CONFIRMED


async def test_a_smaller_catalogue_still_says_formats_and_that_guarded_tools_ask_first(
    make_server: ServerFactory,
) -> None:
    for tool in await _tools(make_server, toolsets=("all",)):
        for name, argument in tool["inputSchema"]["properties"].items():
            if name in FORMATS:
                assert FORMATS[name] in argument.get("description", ""), (tool["name"], name)
        if tool["name"] in CONFIRMED:
            assert "Asks the user" in tool["description"], tool["name"]


async def test_read_only_mode_registers_only_read_tools_whatever_the_toolsets(make_server: ServerFactory) -> None:
    tools = await _tools(make_server, read_only=True, toolsets=("all",))
    assert tools and all(tool["annotations"]["readOnlyHint"] for tool in tools)
    assert "schedule_calls" not in {tool["name"] for tool in tools}


async def test_phone_number_admin_tools_are_opt_in(make_server: ServerFactory) -> None:
    default = {tool["name"] for tool in await _tools(make_server)}
    admin = {tool["name"] for tool in await _tools(make_server, toolsets=("default", "phone_numbers_admin"))}
    assert "delete_phone_number" not in default
    assert {"replace_phone_number", "delete_phone_number"} <= admin


async def test_selecting_one_toolset_keeps_get_status(make_server: ServerFactory) -> None:
    names = {tool["name"] for tool in await _tools(make_server, toolsets=("properties",))}
    assert names == {"get_status", "list_contact_properties", "create_contact_property", "update_contact_property"}


def test_unknown_toolset_fails_at_startup_listing_the_valid_ones(make_server: ServerFactory) -> None:
    with pytest.raises(UnknownToolsetError) as error:
        make_server(toolsets=("contacts", "telephony"))
    assert "telephony" in str(error.value) and "contacts" in str(error.value) and "all" in str(error.value)
