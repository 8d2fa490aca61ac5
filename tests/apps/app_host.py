"""A test host for the apps: Chromium shows `host.html`, which renders an app in a sandboxed iframe and speaks the
host side of MCP Apps; tool calls and resource reads the app makes go through the real `mcp.Client` to the server.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID

if TYPE_CHECKING:
    from mcp import Client
    from playwright.async_api import FrameLocator, Page

__all__ = ["ARTEFACTS", "CHROMIUM", "CHROMIUM_ARGS", "AppHost", "apps_client_extensions", "save_screenshot"]

HOST_PAGE = Path(__file__).with_name("host.html")
ARTEFACTS = Path(__file__).with_name("artefacts")
README_IMAGES = Path(__file__).parents[2] / "docs" / "img"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def apps_client_extensions() -> list[Any]:
    """What a client that renders apps advertises (`Client(extensions=...)`)."""
    from mcp.client.extension import advertise

    return [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]


def _wire(result: Any) -> dict[str, Any]:
    return dict(result.model_dump(mode="json", by_alias=True, exclude_none=True))


class AppHost:
    """One page with one app in its iframe; `calls` lists the tool calls the app made through the host."""

    def __init__(self, page: Page, client: Client) -> None:
        self.page, self.client = page, client
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def start(self) -> None:
        await self.page.expose_function("hostCallTool", self._call_tool)
        await self.page.expose_function("hostReadResource", self._read_resource)
        await self.page.set_content(HOST_PAGE.read_text(encoding="utf-8"))

    async def _call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((name, arguments))
        return _wire(await self.client.call_tool(name, arguments))

    async def _read_resource(self, uri: str) -> dict[str, Any]:
        return _wire(await self.client.read_resource(uri))

    @property
    def app(self) -> FrameLocator:
        return self.page.frame_locator("#app")

    async def open(self, tool: str, *, theme: str = "light") -> None:
        """Load the app the tool's `_meta.ui.resourceUri` names, read from the server, and wait for its handshake."""
        listed = {t.name: t for t in (await self.client.list_tools()).tools}
        uri = (listed[tool].meta or {})["ui"]["resourceUri"]
        html = (await self.client.read_resource(uri)).contents[0]
        assert html.mime_type == APP_MIME_TYPE
        await self.page.evaluate("([html, theme]) => loadApp(html, theme)", [getattr(html, "text", ""), theme])
        await self.page.wait_for_function("window.hostReady === true")

    async def deliver(self, arguments: dict[str, Any], result: dict[str, Any]) -> None:
        """Hand the app a tool's input and result, as a host does after the call."""
        await self.page.evaluate(
            """([args, result]) => {
                hostNotify("ui/notifications/tool-input", { arguments: args });
                hostNotify("ui/notifications/tool-result", result);
            }""",
            [arguments, result],
        )

    async def show(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call the tool through the client (as the model would) and hand the app its result; the result."""
        result = _wire(await self.client.call_tool(tool, arguments))
        assert not result.get("isError"), result
        await self.deliver(arguments, result)
        return result

    async def theme(self, theme: str) -> None:
        await self.page.evaluate("(theme) => hostNotify('ui/notifications/host-context-changed', { theme })", theme)


async def save_screenshot(page: Page, name: str, *, readme: bool = True) -> None:
    """The app as shown, under tests/apps/artefacts/; with UPDATE_SCREENSHOTS=1 also the README's docs/img/ (if
    `readme`)."""
    ARTEFACTS.mkdir(exist_ok=True)
    image = await page.locator("#app").screenshot(path=str(ARTEFACTS / f"{name}.png"))
    if readme and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        README_IMAGES.mkdir(parents=True, exist_ok=True)
        (README_IMAGES / f"{name}.png").write_bytes(image)
