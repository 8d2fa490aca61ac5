"""Every toolset's declarations as data, written at build time, so that a starting server imports no toolset.

Listing the tools, resources and prompts and writing the server instructions need the declarations alone
(`surface`): names, titles, risks, descriptions, prompt arguments, and the tools each resource, prompt and line
uses. `declarations.json` beside this module holds them for every toolset (`tools.TOOLSET_MODULES`, in order), and
`listed_surfaces` reads them back as `Surface`s of `Listed*` entries. A toolset's module, with its handlers, result
models and helpers (most of what a start would otherwise import), loads on the first call of one of its tools, the
first read of one of its resources or the first render of one of its prompts (`load`).

`load` finds the entry's declaration in its module and refuses one that is not exactly what was listed
(`StaleDeclarationsError`), so a tool listed as read-only can never run as one that writes or dials. The module's
own checks run as it loads: a tool that dials without a confirmation cannot be declared (`surface.ToolDef`).
`python -m telli_mcp.docs --write` rewrites the file; `--check` and `tests/server/test_declarations.py` fail when it
is stale. Without the file, a server imports every toolset (`tools.SURFACES`): slower, and the same.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from telli_mcp.server.risk import Risk, ToolSpec
from telli_mcp.server.surface import Instruction, PromptArgument, Surface, is_template_uri

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from telli_mcp.server.surface import OfferedPrompt, OfferedResource, OfferedTool, PromptDef, ResourceDef, ToolDef

__all__ = [
    "DECLARATIONS_FILE",
    "ListedPrompt",
    "ListedResource",
    "ListedTool",
    "StaleDeclarationsError",
    "declarations_text",
    "listed_surfaces",
]

DECLARATIONS_FILE = Path(__file__).with_name("declarations.json")


class StaleDeclarationsError(RuntimeError):
    """A toolset's module no longer declares what `declarations.json` lists: the installation is inconsistent."""

    def __init__(self, what: str, module: str) -> None:
        super().__init__(
            f"{what} is not declared in {module} as telli-mcp listed it (declarations.json is stale): "
            "reinstall telli-mcp, or in a checkout run `python -m telli_mcp.docs --write`"
        )


def _surface(module: str) -> Surface:
    surface: Surface = import_module(module).SURFACE
    return surface


_Declared = TypeVar("_Declared")


def _listed_as(
    listed: object, module: str, declared: Iterable[_Declared], listing: Callable[[_Declared, str], object], what: str
) -> _Declared:
    """The declaration in `module` whose listing is exactly `listed`."""
    for candidate in declared:
        if listing(candidate, module) == listed:
            return candidate
    raise StaleDeclarationsError(what, module)


@dataclass(frozen=True)
class ListedTool:
    """A tool as its toolset declares it, without its handler."""

    spec: ToolSpec
    description: str
    module: str

    @classmethod
    def of(cls, tool: OfferedTool, module: str) -> ListedTool:
        return cls(tool.spec, tool.description, module)

    @property
    def name(self) -> str:
        return self.spec.name

    def load(self) -> ToolDef:
        tools = _surface(self.module).tools
        return _listed_as(self, self.module, tools, ListedTool.of, f"tool {self.name}").load()


@dataclass(frozen=True)
class ListedResource:
    """A resource or resource template as its toolset declares it, without its handler."""

    uri: str
    title: str
    mime_type: str
    name: str
    description: str
    uses: tuple[str, ...]
    module: str

    @classmethod
    def of(cls, resource: OfferedResource, module: str) -> ListedResource:
        return cls(
            resource.uri, resource.title, resource.mime_type, resource.name, resource.description, resource.uses, module
        )

    @property
    def is_template(self) -> bool:
        return is_template_uri(self.uri)

    def load(self) -> ResourceDef:
        resources = _surface(self.module).resources
        return _listed_as(self, self.module, resources, ListedResource.of, f"resource {self.uri}").load()


@dataclass(frozen=True)
class ListedPrompt:
    """A prompt as its toolset declares it, without its handler."""

    name: str
    title: str
    description: str
    arguments: tuple[PromptArgument, ...]
    uses: tuple[str, ...]
    module: str

    @classmethod
    def of(cls, prompt: OfferedPrompt, module: str) -> ListedPrompt:
        return cls(prompt.name, prompt.title, prompt.description, prompt.arguments, prompt.uses, module)

    def load(self) -> PromptDef:
        prompts = _surface(self.module).prompts
        return _listed_as(self, self.module, prompts, ListedPrompt.of, f"prompt {self.name}").load()


def _entry(module: str, surface: Surface) -> dict[str, Any]:
    """One toolset as the file holds it: each item as it is listed (`Listed*.of`), its module said once."""

    def listed(item: ListedTool | ListedResource | ListedPrompt) -> dict[str, Any]:
        fields = asdict(item)
        del fields["module"]
        return fields

    return {
        "toolset": surface.toolset,
        "module": module,
        "tools": [listed(ListedTool.of(tool, module)) for tool in surface.tools],
        "resources": [listed(ListedResource.of(resource, module)) for resource in surface.resources],
        "prompts": [listed(ListedPrompt.of(prompt, module)) for prompt in surface.prompts],
        "instructions": [asdict(line) for line in surface.instructions],
    }


def _listed(entry: dict[str, Any]) -> Surface:
    """`_entry`, read back: JSON's lists become tuples again, the risk a `Risk`."""
    module = entry["module"]

    def tool(item: dict[str, Any]) -> ListedTool:
        spec = ToolSpec(**{**item["spec"], "risk": Risk(item["spec"]["risk"])})
        return ListedTool(spec, item["description"], module)

    def resource(item: dict[str, Any]) -> ListedResource:
        return ListedResource(**{**item, "uses": tuple(item["uses"]), "module": module})

    def prompt(item: dict[str, Any]) -> ListedPrompt:
        arguments = tuple(PromptArgument(**argument) for argument in item["arguments"])
        return ListedPrompt(**{**item, "arguments": arguments, "uses": tuple(item["uses"]), "module": module})

    return Surface(
        entry["toolset"],
        tools=tuple(map(tool, entry["tools"])),
        resources=tuple(map(resource, entry["resources"])),
        prompts=tuple(map(prompt, entry["prompts"])),
        instructions=tuple(Instruction(line["text"], tuple(line["uses"])) for line in entry["instructions"]),
    )


def render(surfaces: Iterable[tuple[str, Surface]]) -> str:
    """The file's text for these (module, surface) pairs, in order."""
    entries = [_entry(module, surface) for module, surface in surfaces]
    return json.dumps({"surfaces": entries}, indent=1, ensure_ascii=False) + "\n"


def declarations_text() -> str:
    """What the file should hold for the code as it is: every toolset's declarations."""
    from telli_mcp.server.tools import TOOLSET_MODULES

    return render((module, _surface(module)) for module in TOOLSET_MODULES)


@cache
def listed_surfaces() -> tuple[Surface, ...]:
    """Every toolset as the installed package declares it, read from the file (each toolset's module imported,
    `tools.SURFACES`, only where the file is missing)."""
    try:
        text = DECLARATIONS_FILE.read_text(encoding="utf-8")
    except FileNotFoundError:
        from telli_mcp.server.tools import SURFACES

        return SURFACES
    entries: list[dict[str, Any]] = json.loads(text)["surfaces"]
    return tuple(_listed(entry) for entry in entries)
