"""Every MCP tool sends only requests telli's documented contract allows, in both protocol eras.

The strict simulator marks each request that breaks the contract (`LoggedRequest.violations`), so a tool that
sends `null` for an unset option, a wrong-case field or an unknown query parameter fails here even when the
simulator's answer would not surface in the tool's result.
"""

from __future__ import annotations

from typing import Any

import pytest
from evidence_helpers import MODES, DemoIds, SimSwitch, listed_tool_schemas, prepare, text_of, valid_arguments
from mcp_helpers import Answers, connect

pytestmark = pytest.mark.anyio

SCHEMAS = listed_tool_schemas()
REFUSE_WITHOUT_OPTIONS = {"update_contact", "update_contact_property", "create_contact_property"}
"""Tools whose required arguments alone are not enough here (nothing to change; a select needs options): they
refuse before sending anything."""
LOCAL_TOOLS = {"list_campaigns"}
ONE_OF_REQUIRED = {"get_contact": "contact_id", "start_campaign": "leads"}
"""Tools that need exactly one of two arguments (the schema cannot say so): the one the minimal call passes."""


def required_only(tool: str, args: dict[str, Any]) -> dict[str, Any]:
    needed = {*SCHEMAS[tool].get("required", []), ONE_OF_REQUIRED.get(tool)}
    return {name: value for name, value in args.items() if name in needed}


def test_every_listed_tool_is_covered() -> None:
    assert set(SCHEMAS) == set(valid_arguments(DemoIds.of(SimSwitch().sim)))


@pytest.mark.parametrize("variant", ["required", "with options"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("tool", sorted(SCHEMAS))
async def test_a_tool_sends_only_contract_valid_requests(tool: str, mode: str, variant: str) -> None:
    switch = SimSwitch()
    async with connect(switch.server(confirm="auto"), mode, Answers("accept")) as client:
        sim = switch.reset()
        args = await prepare(client, sim, tool, DemoIds.of(sim))
        if variant == "required":
            args = required_only(tool, args)
        result = await client.call_tool(tool, args)
    broken = [f"{entry.method} {entry.path}: {entry.violations}" for entry in sim.request_log if entry.violations]
    assert not broken, f"{tool} ({variant}, {mode}) sent off-contract requests: {broken}"
    if variant == "required" and tool in REFUSE_WITHOUT_OPTIONS:
        assert result.is_error and not sim.request_log
        return
    assert not result.is_error, f"{tool} ({variant}, {mode}): {text_of(result)[:400]}"
    assert sim.request_log or tool in LOCAL_TOOLS, f"{tool} sent nothing to telli"
