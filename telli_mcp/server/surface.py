"""What the model sees, declared as data: each toolset's tools, resources, prompts and instruction lines.

Every toolset module (`telli_mcp/server/tools/<toolset>.py`) exports one `Surface`; `tools.SURFACES` lists them
all. Nothing here needs a running server, so the docs generator and the manifests read the same data that
`build_server` registers; a server registers it as written at build time (`declarations`: the `Offered*`
protocols below are what listing needs, and `load()` gives the declaration itself, handler included), so that
it imports a toolset's module only when one of its tools, resources or prompts is first used. What a server
offers is decided in one place, `Offer.select`:

* a tool is offered when its toolset is on, and in read-only mode only if it only reads;
* a resource, a prompt or an instruction line is offered when its toolset is on and every tool it names
  (`uses`) is offered, so a prompt or a line never points the model at a tool it does not have.

Declaring a tool checks its risk against its confirmation (`ToolRegistrationError`): a tool that dials or erases
must declare one, which is then bound to its name and all of its arguments (see `confirm`).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol

from mcp.server.mcpserver import Context, Resolve
from pydantic.fields import FieldInfo

from telli_mcp.server.confirm import declared_confirmations
from telli_mcp.server.risk import Risk, ToolSpec

__all__ = [
    "Instruction",
    "Offer",
    "OfferedPrompt",
    "OfferedResource",
    "OfferedTool",
    "PromptArgument",
    "PromptDef",
    "ResourceDef",
    "Surface",
    "ToolDef",
    "ToolRegistrationError",
    "declared_hints",
    "is_template_uri",
    "tool_arguments",
]


class ToolRegistrationError(ValueError):
    """A tool's declaration contradicts its risk (raised when the tool is declared, at import)."""


def declared_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """The handler's annotations, evaluated one level deep: enough to see its `Context` and its `Resolve` markers.

    A type written as a string inside them (`Annotated["telli_mcp.campaigns.CampaignPlan", planned]`) stays a
    string, so declaring a tool loads no module its types come from; the SDK evaluates them on the first call."""
    return inspect.get_annotations(fn, eval_str=True)


def tool_arguments(fn: Callable[..., Any], hints: dict[str, Any]) -> list[str]:
    """The names a client passes to the tool: every parameter but the Context and the resolved ones."""
    return [name for name in inspect.signature(fn).parameters if not _injected(hints.get(name))]


def _injected(hint: Any) -> bool:
    if typing.get_origin(hint) is Annotated:
        return any(isinstance(marker, Resolve) for marker in typing.get_args(hint)[1:])
    return isinstance(hint, type) and issubclass(hint, Context)


def _field_description(hint: Any) -> str | None:
    if typing.get_origin(hint) is not Annotated:
        return None
    return next((m.description for m in typing.get_args(hint)[1:] if isinstance(m, FieldInfo)), None)


def _bind_confirmation(spec: ToolSpec, fn: Callable[..., Any]) -> None:
    hints = declared_hints(fn)
    confirmations = declared_confirmations(hints)
    if len(confirmations) > 1:
        raise ToolRegistrationError(f"{spec.name} declares {len(confirmations)} confirmations; one per tool")
    if not spec.needs_confirmation:
        if confirmations:
            raise ToolRegistrationError(f"{spec.name} declares a confirmation but its risk is {spec.risk}")
        return
    if not confirmations:
        raise ToolRegistrationError(
            f"{spec.name} is {spec.risk} (it dials or erases) but declares no confirmation: give it a parameter "
            "Annotated[ElicitationResult[Any], Resolve(Confirmation(ask).resolver)]"
        )
    confirmations[0].bind(spec.name, tool_arguments(fn, hints), dials=spec.dials)


def is_template_uri(uri: str) -> bool:
    """Whether a resource URI has `{variables}`: a resource template, whose handler takes them as parameters."""
    return "{" in uri


def _summary(doc: str | None) -> str:
    return inspect.cleandoc(doc or "")


@dataclass(frozen=True)
class ToolDef:
    """One tool: its static spec and its handler (whose docstring is the tool's description)."""

    spec: ToolSpec
    handler: Callable[..., Awaitable[Any]]

    def __post_init__(self) -> None:
        _bind_confirmation(self.spec, self.handler)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def description(self) -> str:
        return _summary(self.handler.__doc__)

    def load(self) -> ToolDef:
        return self


@dataclass(frozen=True)
class ResourceDef:
    """One resource, or a resource template when the URI has `{variables}` (the handler's parameters)."""

    uri: str
    title: str
    mime_type: str
    handler: Callable[..., Awaitable[str]]
    uses: tuple[str, ...] = ()

    @property
    def is_template(self) -> bool:
        return is_template_uri(self.uri)

    @property
    def name(self) -> str:
        return self.handler.__name__

    @property
    def description(self) -> str:
        return _summary(self.handler.__doc__)

    def load(self) -> ResourceDef:
        return self


@dataclass(frozen=True)
class PromptArgument:
    name: str
    required: bool
    description: str | None = None


@dataclass(frozen=True)
class PromptDef:
    """One prompt: its handler renders the messages (its name is the prompt's, its docstring the description)."""

    title: str
    handler: Callable[..., Any]
    uses: tuple[str, ...] = ()
    """The tools its text names."""

    @property
    def name(self) -> str:
        return self.handler.__name__

    @property
    def description(self) -> str:
        return _summary(self.handler.__doc__)

    @property
    def arguments(self) -> tuple[PromptArgument, ...]:
        """Each parameter, described by its `Field(description=...)` (what the SDK derives and lists)."""
        hints = typing.get_type_hints(self.handler, include_extras=True)
        return tuple(
            PromptArgument(p.name, p.default is inspect.Parameter.empty, _field_description(hints.get(p.name)))
            for p in inspect.signature(self.handler).parameters.values()
        )

    def load(self) -> PromptDef:
        return self


@dataclass(frozen=True)
class Instruction:
    """One line of the server instructions (a `- ` bullet; continuation lines indented by two spaces)."""

    text: str
    uses: tuple[str, ...] = ()
    """The tools it names."""


class OfferedTool(Protocol):
    """A tool as a server lists it: a `ToolDef`, or its listing from the build-time declarations
    (`declarations.ListedTool`). `load` gives the `ToolDef`, handler included, importing its module if need be."""

    @property
    def spec(self) -> ToolSpec: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    def load(self) -> ToolDef: ...


class OfferedResource(Protocol):
    """A resource as a server lists it (see `OfferedTool`)."""

    @property
    def uri(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def mime_type(self) -> str: ...
    @property
    def uses(self) -> tuple[str, ...]: ...
    @property
    def is_template(self) -> bool: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    def load(self) -> ResourceDef: ...


class OfferedPrompt(Protocol):
    """A prompt as a server lists it (see `OfferedTool`)."""

    @property
    def title(self) -> str: ...
    @property
    def uses(self) -> tuple[str, ...]: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def arguments(self) -> tuple[PromptArgument, ...]: ...
    def load(self) -> PromptDef: ...


@dataclass(frozen=True)
class Surface:
    """Everything one toolset adds to a server."""

    toolset: str
    tools: tuple[OfferedTool, ...] = ()
    resources: tuple[OfferedResource, ...] = ()
    prompts: tuple[OfferedPrompt, ...] = ()
    instructions: tuple[Instruction, ...] = ()

    def __post_init__(self) -> None:
        strays = [tool.name for tool in self.tools if tool.spec.toolset != self.toolset]
        if strays:
            raise ToolRegistrationError(f"{strays} are not in the toolset {self.toolset!r} that declares them")


@dataclass(frozen=True)
class Offer:
    """What one server offers, in declaration order."""

    tools: tuple[OfferedTool, ...] = ()
    resources: tuple[OfferedResource, ...] = ()
    prompts: tuple[OfferedPrompt, ...] = ()
    instructions: tuple[Instruction, ...] = ()
    toolsets: frozenset[str] = field(default_factory=frozenset)
    """The toolsets switched on (some may offer nothing, e.g. in read-only mode)."""

    @classmethod
    def select(cls, surfaces: Iterable[Surface], *, toolsets: frozenset[str], read_only: bool) -> Offer:
        """The part of `surfaces` a server with these toolsets (and read-only mode) offers."""
        on = [surface for surface in surfaces if surface.toolset in toolsets]
        tools = tuple(tool for surface in on for tool in surface.tools if not read_only or tool.spec.risk is Risk.READ)
        names = frozenset(tool.name for tool in tools)

        def offered(uses: tuple[str, ...]) -> bool:
            return names.issuperset(uses)

        return cls(
            tools=tools,
            resources=tuple(r for surface in on for r in surface.resources if offered(r.uses)),
            prompts=tuple(p for surface in on for p in surface.prompts if offered(p.uses)),
            instructions=tuple(i for surface in on for i in surface.instructions if offered(i.uses)),
            toolsets=toolsets,
        )

    def needs_confirmation(self) -> bool:
        """Whether any offered tool asks the human first."""
        return any(tool.spec.needs_confirmation for tool in self.tools)
