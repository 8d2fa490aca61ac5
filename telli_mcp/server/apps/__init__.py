"""MCP Apps (`io.modelcontextprotocol/ui`): the views a host that renders apps shows beside three tools' results.

* `ui://telli/campaign`, the campaign dashboard, for `get_campaign`;
* `ui://telli/call`, the call view, for `get_call`;
* `ui://telli/call-stats`, the call analytics chart, for `call_stats`.

The tools stay as they are: the same results for every client, and each tool's `tools/list` entry carries only
`_meta.ui.resourceUri`, which a client that does not render apps ignores. An app reads the tool result the host
hands it and calls the server's tools through the host like any tool call (the dashboard refreshes with
`get_campaign`; it stops a campaign only with `stop_campaign`, after the user clicked twice).

An app is offered when its tool is: its resource is registered, its tool stamped. The documents are assembled in
`documents`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telli_mcp.server.apps.documents import document

if TYPE_CHECKING:
    from mcp.server.apps import Apps
    from mcp.server.mcpserver import MCPServer

    from telli_mcp.server.surface import Offer

__all__ = ["APPS", "App", "apps_extension", "attach_apps"]


@dataclass(frozen=True)
class App:
    tool: str
    uri: str
    document: str
    """The file in `web/`, without `.html`."""
    title: str
    description: str


APPS = (
    App(
        "get_campaign", "ui://telli/campaign", "campaign", "Campaign dashboard", "Progress, outcomes and notable leads"
    ),
    App("get_call", "ui://telli/call", "call", "Call view", "Transcript as a conversation, analysis and outcomes"),
    App("call_stats", "ui://telli/call-stats", "stats", "Call analytics", "Calls per day, status and agent"),
)


def _offered(offer: Offer) -> list[App]:
    names = {tool.name for tool in offer.tools}
    return [app for app in APPS if app.tool in names]


def apps_extension(offer: Offer) -> list[Apps]:
    """The Apps extension with the offered tools' documents, for `MCPServer(extensions=...)` (none if no tool
    with an app is offered)."""
    from mcp.server.apps import Apps

    offered = _offered(offer)
    if not offered:
        return []
    apps = Apps()
    for app in offered:
        apps.add_html_resource(
            app.uri,
            document(app.document),
            name=app.document,
            title=app.title,
            description=app.description,
            prefers_border=True,
        )
    return [apps]


def attach_apps(server: MCPServer[Any], offer: Offer) -> None:
    """Point each offered tool that has an app at it (`_meta.ui.resourceUri`), once the tools are registered.

    The SDK's `Apps.tool()` would register the tool itself, from its signature; the telli tools are registered
    from their declarations (`registry`), so the reference is stamped on the registered tool instead.
    """
    for app in _offered(offer):
        tool = server._tool_manager.get_tool(app.tool)
        assert tool is not None, f"{app.tool} is offered but not registered"
        tool.meta = {**(tool.meta or {}), "ui": {"resourceUri": app.uri}}
