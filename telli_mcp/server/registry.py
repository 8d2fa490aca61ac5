"""Registration of the offered tools, resources and prompts on an `MCPServer`: annotations from the risk, compact
schemas, bounded errors, and nothing derived from a handler's signature before it is first used.

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
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

import pydantic_core
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.server.mcpserver.prompts import Prompt
from mcp.server.mcpserver.prompts.base import PromptArgument
from mcp.server.mcpserver.resources import ResourceTemplate
from mcp.server.mcpserver.resources.templates import DEFAULT_RESOURCE_SECURITY
from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent
from pydantic import BaseModel, ConfigDict, Field, ValidationError

import telli_mcp
from telli_mcp.bounded import MAX_TEXT_CHARS, clip
from telli_mcp.config import Settings, resolve_data_dir
from telli_mcp.server.declarations import StaleDeclarationsError
from telli_mcp.server.deps import deps_of
from telli_mcp.server.errors import invalid_arguments, translating
from telli_mcp.server.risk import Risk, annotations_for
from telli_mcp.server.schema_compact import compact_input_schema, compact_output_schema
from telli_mcp.server.surface import OfferedPrompt, OfferedResource, OfferedTool, ToolDef
from telli_mcp.server.tool_schemas import ToolSchemas, shipped

__all__ = ["compact_output", "derive_schemas", "register_prompts", "register_resources", "register_tools"]


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


def _derived_on_first_use(*_args: Any, **_kwargs: Any) -> NoReturn:
    """The `fn` of every tool, prompt and resource template registered here: what runs is the SDK's own object,
    derived from the loaded declaration on first use (`sdk_tool`, `sdk_prompt`, `sdk_template`)."""
    raise RuntimeError("a registered telli tool, prompt or template runs through the SDK object derived from it")


class _TelliTool(Tool):
    """A registered tool, published from its declaration and its build-time schemas (`tool_schemas`).

    Listing it needs nothing else. What calling it needs, its handler (its toolset's module is imported then, see
    `declarations`), the SDK's argument model and the parameters the SDK fills in itself (the context, the
    resolved confirmation), is derived on the first call (`sdk_tool`): deriving it for every tool at registration
    was most of what registering cost. Either way the SDK validates the arguments, so a call behaves as if the SDK
    had registered the tool; its error text then reaches the model bounded in size and without the server's paths.
    """

    # Made with `model_construct`, which needs no validator: building one would only slow every start.
    model_config = ConfigDict(defer_build=True)

    advertised_output_schema: dict[str, Any] | None = None
    declared: Any = Field(default=None, exclude=True)
    """The `OfferedTool` (a pydantic field cannot be typed with a protocol)."""

    @cached_property
    def output_schema(self) -> dict[str, Any] | None:
        return self.advertised_output_schema

    @cached_property
    def sdk_tool(self) -> Tool:
        """The SDK's own tool for the handler. Unstructured: the handler returns its structured content itself
        (`compact_output`), and the advertised output schema is this tool's, so no result model is built."""
        return Tool.from_function(
            _handler(self.declared.load()),
            name=self.name,
            title=self.title,
            description=self.description,
            annotations=self.annotations,
            structured_output=False,
        )

    async def run(self, arguments: dict[str, Any], context: Context[Any, Any], convert_result: bool = False) -> Any:
        try:
            sdk_tool = self.sdk_tool
        except StaleDeclarationsError as err:
            raise ToolError(f"Error executing tool {self.name}: {err}") from None
        try:
            return await sdk_tool.run(arguments, context, convert_result)
        except UnexpectedToolError:
            raise  # the SDK's generic text: nothing of the exception reaches the model
        except ToolError as err:
            cause = err.__cause__
            if isinstance(cause, ValidationError):
                # The SDK's own text lists every problem with its input: megabytes for a long list of bad ids.
                raise ToolError(f"Error executing tool {self.name}: {invalid_arguments(cause)}") from cause
            raise ToolError(_for_model(str(err), _settings(context))) from cause


def _handler(tool: ToolDef) -> Callable[..., Awaitable[Any]]:
    """What the SDK calls: the tool's handler with its telli errors translated and its result sent compact; a
    tool that writes also drops the caller's cached contact states when it is done."""
    writes = tool.spec.risk is not Risk.READ
    handler = translating(tool.handler, writes=writes)
    return compact_output(_forgets_cached_contacts(handler) if writes else handler)


def _forgets_cached_contacts(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """After a write (done, failed or unknown: it may have changed something), campaign status pages read telli
    again instead of showing the few-seconds-old state they cached before it."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        finally:
            try:
                deps = deps_of()
            except RuntimeError:  # called outside a served request: there is no cache to keep honest
                deps = None
            tenant = None if deps is None else deps.tenant_or_none()
            if deps is not None and tenant is not None:
                deps.campaigns.forget_contacts(tenant)

    return wrapper


def derive_schemas(tool: ToolDef) -> ToolSchemas:
    """The tool's schemas as the SDK derives them from the handler's signature and return type when it
    registers the tool, made compact (`schema_compact`): what `tool_schemas.json` ships."""
    sdk = Tool.from_function(_handler(tool), name=tool.name, structured_output=True)
    assert sdk.output_schema is not None, f"{tool.name} has no output schema"
    return ToolSchemas(input=compact_input_schema(sdk.parameters), output=compact_output_schema(sdk.output_schema))


def register_tools(
    server: MCPServer[Any], tools: Iterable[OfferedTool], *, catalogue: Mapping[str, ToolSchemas] | None = None
) -> None:
    """Add each tool as a `_TelliTool`, with its declared annotations and its compact schemas.

    A tool's schemas come from `catalogue` (default: the ones shipped, `tool_schemas`) when it is there;
    otherwise they are derived now (`derive_schemas`), which builds the tool's argument and result models at
    registration instead of on first use.
    """
    published = shipped() if catalogue is None else catalogue
    for tool in tools:
        schemas = published.get(tool.name) or derive_schemas(tool.load())
        # The SDK offers no public way to register a tool whose schemas are already known, nor a hook for
        # wrapping a tool's whole run (argument validation, resolvers, body): this reaches its tool manager in
        # one place, and the catalogue tests fail loudly if the SDK changes shape. The fields the SDK derives from
        # the handler's signature (`fn_metadata`, `is_async`) are left out: `_TelliTool` reads them from `sdk_tool`.
        server._tool_manager._tools[tool.name] = _TelliTool.model_construct(  # type: ignore[call-arg]
            fn=_derived_on_first_use,
            declared=tool,
            name=tool.name,
            title=tool.spec.title,
            description=tool.description,
            parameters=schemas["input"],
            advertised_output_schema=schemas["output"],
            annotations=annotations_for(tool.spec),
        )


class _TelliPrompt(Prompt):
    """A prompt listed from its declaration; its handler loads, and the SDK derives its argument validation, on the
    first render."""

    model_config = ConfigDict(defer_build=True)  # made with `model_construct` (see `_TelliTool`)

    declared: Any = Field(default=None, exclude=True)
    """The `OfferedPrompt`."""

    @cached_property
    def sdk_prompt(self) -> Prompt:
        handler = self.declared.load().handler
        return Prompt.from_function(handler, name=self.name, title=self.title, description=self.description)

    async def render(self, arguments: dict[str, Any] | None, context: Context[Any, Any]) -> Any:
        return await self.sdk_prompt.render(arguments, context)


def register_prompts(server: MCPServer[Any], prompts: Iterable[OfferedPrompt]) -> None:
    """Add each prompt as the SDK lists it (`PromptDef.arguments` says what its derivation would)."""
    for prompt in prompts:
        arguments = [
            PromptArgument(name=a.name, description=a.description, required=a.required) for a in prompt.arguments
        ]
        server.add_prompt(
            _TelliPrompt.model_construct(
                name=prompt.name,
                title=prompt.title,
                description=prompt.description,
                arguments=arguments,
                fn=_derived_on_first_use,
                declared=prompt,
            )
        )


class _TelliResourceTemplate(ResourceTemplate):
    """A resource template listed from its declaration; the SDK derives its parameter validation on the first read."""

    model_config = ConfigDict(defer_build=True)  # made with `model_construct` (see `_TelliTool`)

    declared: Any = Field(default=None, exclude=True)
    """The `OfferedResource`."""

    @cached_property
    def sdk_template(self) -> ResourceTemplate:
        return ResourceTemplate.from_function(
            self.declared.load().handler,
            uri_template=self.uri_template,
            title=self.title,
            description=self.description,
            mime_type=self.mime_type,
            security=self.security,
        )

    def matches(self, uri: str) -> dict[str, str | list[str]] | None:
        return self.sdk_template.matches(uri)

    async def create_resource(self, uri: str, params: dict[str, Any], context: Context[Any, Any]) -> Any:
        return await self.sdk_template.create_resource(uri, params, context)


def _read_on_first_use(resource: OfferedResource) -> Callable[[], Awaitable[str]]:
    async def read() -> str:
        return await resource.load().handler()

    return read


def register_resources(server: MCPServer[Any], resources: Iterable[OfferedResource]) -> None:
    """Add each resource (its handler loads on the first read); a template (`ResourceDef.is_template`) as the SDK
    lists it, derived on first read."""
    for resource in resources:
        if not resource.is_template:  # no parameters, no argument model: added the SDK's way
            server.resource(
                resource.uri,
                name=resource.name,
                title=resource.title,
                description=resource.description,
                mime_type=resource.mime_type,
            )(_read_on_first_use(resource))
            continue
        # No public way to add a ready template either (see `register_tools`): its manager, reached here alone. The
        # fields derived from the handler and the URI (`parameters`, `parsed_template`) come from `sdk_template`.
        server._resource_manager._templates[resource.uri] = _TelliResourceTemplate.model_construct(  # type: ignore[call-arg]
            uri_template=resource.uri,
            name=resource.name,
            title=resource.title,
            description=resource.description,
            mime_type=resource.mime_type,
            fn=_derived_on_first_use,
            declared=resource,
            security=DEFAULT_RESOURCE_SECURITY,
        )
