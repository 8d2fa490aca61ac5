"""The apps as the server serves them, no browser needed: each tool with an app points at a `ui://` resource that
is there, self-contained, small and locked down; a tool without its toolset has no app; results do not change
for a client that renders apps."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from app_host import apps_client_extensions
from mcp import Client
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.server.mcpserver import MCPServer

from telli_mcp.backend import Backend
from telli_mcp.config import Settings
from telli_mcp.server import build_server
from telli_mcp.server.apps import APPS
from telli_mcp.server.apps.documents import MAX_DOCUMENT_BYTES, WEB
from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

pytestmark = pytest.mark.anyio

APP_TOOLS = {
    "get_campaign": "ui://telli/campaign",
    "get_call": "ui://telli/call",
    "call_stats": "ui://telli/call-stats",
}
NETWORK = re.compile(
    r"""(?:src|href|action)\s*=|https?://|url\(|@import|<link|<iframe|fetch\(|XMLHttpRequest|WebSocket"""
)
HTML_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|setAttribute\(\"on"
)


ServerFactory = Callable[..., MCPServer[Any]]


@pytest.fixture
def make_server() -> ServerFactory:
    sim = TelliSimulator(api_keys=(TEST_API_KEY,), seed_demo=True)
    return lambda **settings: build_server(Backend.simulated(Settings(api_key=TEST_API_KEY, **settings), sim))


async def _served(client: Client) -> dict[str, str]:
    """Each listed tool's app URI, and that the resource behind it is an app."""
    tools = {
        tool.name: (tool.meta or {}).get("ui", {}).get("resourceUri") for tool in (await client.list_tools()).tools
    }
    linked = {name: uri for name, uri in tools.items() if uri}
    for uri in linked.values():
        [content] = (await client.read_resource(uri)).contents
        assert content.mime_type == APP_MIME_TYPE
    return linked


async def test_each_tool_with_an_app_points_at_its_document_and_the_server_advertises_apps(
    make_server: ServerFactory,
) -> None:
    async with Client(make_server(toolsets=("all",)), cache=None) as client:
        linked = await _served(client)
        extensions = client.server_capabilities.extensions if client.server_capabilities else None
    assert linked == APP_TOOLS
    assert extensions is not None and EXTENSION_ID in extensions


async def test_a_server_without_those_tools_offers_no_app(make_server: ServerFactory) -> None:
    async with Client(make_server(toolsets=("properties",)), cache=None) as client:
        uris = [str(r.uri) for r in (await client.list_resources()).resources]
        extensions = client.server_capabilities.extensions if client.server_capabilities else None
    assert not [uri for uri in uris if uri.startswith("ui://")]
    assert not extensions or EXTENSION_ID not in extensions


@pytest.mark.parametrize("app", APPS, ids=[app.document for app in APPS])
async def test_each_app_is_one_small_document_that_reaches_no_network(make_server: ServerFactory, app: Any) -> None:
    async with Client(make_server(toolsets=("all",)), cache=None) as client:
        [content] = (await client.read_resource(app.uri)).contents
    html = getattr(content, "text", "")
    size = len(html.encode())
    assert size <= MAX_DOCUMENT_BYTES, f"{app.uri} is {size:,} bytes, over {MAX_DOCUMENT_BYTES:,}"
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert policy is not None and "default-src 'none'" in policy.group(1) and "unsafe" not in policy.group(1)
    body = html[policy.end() :].replace('"http://www.w3.org/2000/svg"', "")  # a namespace name, never fetched
    assert NETWORK.search(body) is None, NETWORK.search(body)
    assert "telli:shared" not in html  # every shared part was inlined


@pytest.mark.parametrize("path", sorted(WEB.iterdir()), ids=lambda path: path.name)
def test_no_app_source_turns_data_into_markup(path: Path) -> None:
    found = HTML_SINKS.search(path.read_text(encoding="utf-8"))
    assert found is None, f"{path.name}: {found.group(0) if found else ''}"


async def test_a_client_that_renders_apps_gets_the_same_results(make_server: ServerFactory) -> None:
    server = make_server()
    async with (
        Client(server, cache=None) as plain,
        Client(server, cache=None, extensions=apps_client_extensions()) as ui,
    ):
        calls = (await plain.call_tool("list_calls", {"limit": 100})).structured_content or {}
        call_id = next(call["call_id"] for call in calls["calls"] if call["status"] == "COMPLETED")
        results = [await client.call_tool("get_call", {"call_id": call_id}) for client in (plain, ui)]
        listed = [[tool.model_dump() for tool in (await client.list_tools()).tools] for client in (plain, ui)]
    plain_result, ui_result = (result.model_dump(exclude={"meta"}) for result in results)
    assert plain_result == ui_result and not results[0].is_error
    assert listed[0] == listed[1]
