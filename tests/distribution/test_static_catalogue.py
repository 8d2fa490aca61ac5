"""The catalogue (README tables, bundle manifest) is generated from the toolsets' static data, never from a server.

And that data is exactly what a built server lists, so what the docs say is what a client sees.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from telli_mcp import docs
from telli_mcp.backend import Backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server, offer_for
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

SYNC = Path(__file__).resolve().parents[2] / "manifests" / "sync.py"


def _sync_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("manifests_sync", SYNC)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_and_manifests_are_generated_without_building_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("the catalogue must come from static data, not from a server")

    monkeypatch.setattr(MCPServer, "__init__", refuse)
    tools, prompts = _sync_module().default_catalogue()
    table = docs.tool_table()
    assert {tool["name"] for tool in tools} >= {"get_status", "schedule_calls", "start_campaign"}
    assert {prompt["name"] for prompt in prompts} == {"review_call", "follow_up_unreached", "launch_campaign"}
    assert "| `advance_sandbox_clock` | sandbox only |" in table and "| `telli://properties` |" in table


@pytest.mark.anyio
@pytest.mark.parametrize("settings", [{}, {"toolsets": ("all",)}, {"toolsets": ("calls",), "read_only": True}])
async def test_the_static_data_is_what_a_built_server_lists(settings: dict[str, Any]) -> None:
    config = Settings(api_key=TEST_API_KEY, **settings)
    offer = offer_for(config)
    server = build_server(Backend.simulated(config, TelliSimulator()))
    async with Client(server, cache=None) as client:
        tools = (await client.list_tools()).tools
        templates = (await client.list_resource_templates()).resource_templates
        resources = (await client.list_resources()).resources
        prompts = (await client.list_prompts()).prompts
    assert [(t.name, t.title, t.description) for t in tools] == [
        (t.name, t.spec.title, t.description) for t in offer.tools
    ]
    listed = {t.uri_template: (t.title, t.mime_type, t.description) for t in templates}
    # The apps' ui:// documents come with the Apps extension, not the toolsets' data (tests/apps checks them).
    listed |= {str(r.uri): (r.title, r.mime_type, r.description) for r in resources if not str(r.uri).startswith("ui:")}
    assert listed == {r.uri: (r.title, r.mime_type, r.description) for r in offer.resources}
    assert [(p.name, p.title, p.description, [(a.name, a.required) for a in p.arguments or []]) for p in prompts] == [
        (p.name, p.title, p.description, [(a.name, a.required) for a in p.arguments]) for p in offer.prompts
    ]
