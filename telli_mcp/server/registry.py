"""Registration of the offered tools on an `MCPServer`: annotations from the risk, compact schemas, bounded errors.

Which tools a server offers is decided before (`surface.Offer.select`): a tool that is off does not exist for the
client at all. A tool's confirmation was checked and bound when it was declared (`surface.ToolDef`).

Every call of a registered tool runs in one place (`_TelliTool.run`; its telli deadline is the request's, see
`request_deadline`), and whatever error text it produces reaches the model
bounded: argument validation problems as the first few and a count, any other text cut at a few kilobytes,
and without the server's own paths (its data directory, its installation), which are no business of a model.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pydantic_core
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, ValidationError

import telli_mcp
from telli_mcp.bounded import MAX_TEXT_CHARS, clip
from telli_mcp.config import Settings, resolve_data_dir
from telli_mcp.server.deps import deps_of
from telli_mcp.server.errors import invalid_arguments, translating
from telli_mcp.server.output_schemas import shipped
from telli_mcp.server.risk import Risk, annotations_for
from telli_mcp.server.schema_compact import compact_input_schema, compact_output_schema
from telli_mcp.server.surface import ToolDef

__all__ = ["compact_output", "register_tools"]


def compact_output(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Return structured content as is, and its text copy as compact JSON.

    The SDK would add an indented JSON dump of the result as the text block, roughly doubling what a model
    that reads text pays for every call.
    """

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = await fn(*args, **kwargs)
        if not isinstance(result, BaseModel):
            return result
        structured = result.model_dump(mode="json")
        text = TextContent(type="text", text=pydantic_core.to_json(structured).decode())
        return CallToolResult(content=[text], structured_content=structured)

    return wrapper


def _settings(context: Context[Any, Any]) -> Settings:
    """The server's settings for this call (defaults when called outside a served request)."""
    try:
        return deps_of(context).settings
    except (ValueError, RuntimeError):
        return Settings.model_construct()


_INSTALLATION = str(Path(telli_mcp.__file__).resolve().parent)


def _server_paths(settings: Settings) -> list[tuple[str, str]]:
    data_dir = resolve_data_dir(settings)
    candidates = [(str(data_dir), "<data dir>"), (str(data_dir.resolve()), "<data dir>"), (_INSTALLATION, "<server>")]
    # Only whole absolute paths below the root: replacing "/" or "." would garble every message.
    return [(path, label) for path, label in candidates if Path(path).is_absolute() and len(Path(path).parts) > 1]


def _for_model(text: str, settings: Settings) -> str:
    """An error text as the model may see it: the server's own paths replaced, then cut to size."""
    for path, label in _server_paths(settings):
        text = text.replace(path, label)
    return clip(text, MAX_TEXT_CHARS)


class _TelliTool(Tool):
    """A registered tool whose error text reaches the model bounded in size and without the server's paths."""

    async def run(self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False) -> Any:
        try:
            return await super().run(arguments, context, convert_result)
        except UnexpectedToolError:
            raise  # the SDK's generic text: nothing of the exception reaches the model
        except ToolError as err:
            cause = err.__cause__
            if isinstance(cause, ValidationError):
                # The SDK's own text lists every problem with its input: megabytes for a long list of bad ids.
                raise ToolError(f"Error executing tool {self.name}: {invalid_arguments(cause)}") from cause
            raise ToolError(_for_model(str(err), _settings(context))) from cause


def register_tools(
    server: MCPServer[Any], tools: Iterable[ToolDef], *, catalogue: Mapping[str, dict[str, Any]] | None = None
) -> None:
    """Add each tool, with its declared annotations and its compact schemas, run as a `_TelliTool`.

    A tool's output schema comes from `catalogue` (default: the one shipped, `output_schemas`) when it is there;
    otherwise the SDK derives it from the return type, which builds the result models now instead of on first use.
    Either way the tool returns its structured content itself (`compact_output`), so the SDK does not validate
    it again.
    """
    published = shipped() if catalogue is None else catalogue
    for tool in tools:
        spec = tool.spec
        schema = published.get(spec.name)
        server.add_tool(
            compact_output(translating(tool.handler, writes=spec.risk is not Risk.READ)),
            name=spec.name,
            title=spec.title,
            description=tool.description,
            annotations=annotations_for(spec),
            structured_output=schema is None,
        )
        _compact(server, spec.name, schema)


def _compact(server: MCPServer[Any], name: str, output_schema: dict[str, Any] | None) -> None:
    # The SDK offers no public hook for schema generation or for wrapping a tool's whole run (argument
    # validation, resolvers, body); this reaches its tool manager in one place, and the catalogue snapshot
    # test fails loudly if the SDK changes shape. An output schema set on the metadata without a model is
    # advertised but not validated by the SDK (its "hand-built metadata").
    manager = server._tool_manager
    tool = manager.get_tool(name)
    assert tool is not None
    tool.parameters = compact_input_schema(tool.parameters)
    if output_schema is not None:
        tool.fn_metadata.output_schema = output_schema
    elif tool.fn_metadata.output_schema is not None:
        tool.fn_metadata.output_schema = compact_output_schema(tool.fn_metadata.output_schema)
        tool.fn_metadata.output_model = None  # `compact_output` returns valid structured content itself
    fields = {field: getattr(tool, field) for field in Tool.model_fields}
    manager._tools[name] = _TelliTool.model_construct(**fields)
