"""Toolsets and read-only mode filter the whole surface: tools, resources, prompts and the server instructions.

A model must never be pointed at a tool the server does not offer: every tool name that the instructions or a
rendered prompt mention is one the server lists. Everything is read through the MCP client, in both eras.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp import Client
from mcp.types import TextContent
from server_helpers import ServerFactory, connect

from telli_mcp.server import SURFACES

pytestmark = pytest.mark.anyio

EVERY_TOOL = {tool.name for surface in SURFACES for tool in surface.tools}
CALL_ID = "0b6c4a52-3f0e-4c1e-9b53-2a5d7f1e8c10"
AGENT_ID = "00000000-0000-4000-8000-00000000a9e7"
PROMPT_SAMPLES = {"call_id": CALL_ID, "agent_id": AGENT_ID, "days": "7", "source": "leads.csv"}
CONFIGURATIONS: list[dict[str, Any]] = [
    {},
    {"read_only": True},
    {"toolsets": ("all",), "read_only": True},
    {"toolsets": ("all",)},
    *({"toolsets": (name,)} for name in ("properties", "contacts", "calls", "agents", "campaigns")),
]


def _named_tools(text: str) -> set[str]:
    return {name for name in EVERY_TOOL if re.search(rf"\b{name}\b", text)}


async def _surface(client: Client) -> dict[str, Any]:
    prompts = {}
    for prompt in (await client.list_prompts()).prompts:
        arguments = {a.name: PROMPT_SAMPLES[a.name] for a in prompt.arguments or []}
        rendered = await client.get_prompt(prompt.name, arguments)
        prompts[prompt.name] = " ".join(m.content.text for m in rendered.messages if isinstance(m.content, TextContent))
    return {
        "tools": {tool.name for tool in (await client.list_tools()).tools},
        "resources": {str(r.uri) for r in (await client.list_resources()).resources},
        "templates": {t.uri_template for t in (await client.list_resource_templates()).resource_templates},
        "prompts": prompts,
        "instructions": client.instructions or "",
    }


@pytest.mark.parametrize("settings", CONFIGURATIONS, ids=repr)
async def test_instructions_and_prompts_name_only_tools_the_server_offers(
    make_server: ServerFactory, mode: str, settings: dict[str, Any]
) -> None:
    async with connect(make_server(**settings), mode) as client:
        surface = await _surface(client)
    assert _named_tools(surface["instructions"]) <= surface["tools"], surface["instructions"]
    for name, text in surface["prompts"].items():
        assert _named_tools(text) <= surface["tools"], (name, text)


async def test_one_toolset_exposes_only_its_own_resources_prompts_and_instructions(
    make_server: ServerFactory, mode: str
) -> None:
    async with connect(make_server(toolsets=("properties",)), mode) as client:
        surface = await _surface(client)
    assert surface["resources"] == {"telli://properties"}
    assert surface["templates"] == set()  # no call, contact, agent or campaign resources
    assert surface["prompts"] == {}
    assert "list_contact_properties" in surface["instructions"]
    assert "campaign" not in surface["instructions"].replace("campaign details", "")


async def test_read_only_mode_never_tells_the_model_to_schedule_or_launch_anything(
    make_server: ServerFactory, mode: str
) -> None:
    async with connect(make_server(read_only=True, toolsets=("all",)), mode) as client:
        surface = await _surface(client)
    for write_tool in ("schedule_calls", "call_now", "cancel_scheduled_calls", "start_campaign", "delete_contact"):
        assert write_tool not in surface["instructions"]
    assert "confirmation_token" not in surface["instructions"]  # nothing there asks the user to confirm
    assert "read-only" in surface["instructions"]
    assert set(surface["prompts"]) == {"review_call"}  # the others propose scheduling or launching
    assert "telli://calls/{call_id}/transcript" in surface["templates"]  # reading stays possible


async def test_the_default_server_keeps_every_workflow_line(make_server: ServerFactory) -> None:
    async with connect(make_server(), "auto") as client:
        surface = await _surface(client)
    instructions = surface["instructions"]
    for named in (
        "list_contact_properties",
        "get_contact",
        "schedule_calls",
        "cancel_scheduled_calls",
        "get_call_transcript",
        "start_campaign",
        "confirmation_token",
        "next_cursor",
        "untrusted-data",
    ):
        assert named in instructions
    assert "read-only" not in instructions and "SANDBOX" not in instructions
    assert set(surface["prompts"]) == {"review_call", "follow_up_unreached", "launch_campaign"}
