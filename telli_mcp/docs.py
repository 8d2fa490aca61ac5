"""Generate the README's configuration and tool tables from the code, so they cannot drift from it.

The configuration table comes from the `Settings` model (environment variable, CLI flag, default, attribute
docstring); the tool table from what `build_server` registers with every toolset on, plus the sandbox-only
tools, the resources and the prompts. `python -m telli_mcp.docs --write` rewrites the README between the
`<!-- config-table:start -->` / `<!-- tool-table:start -->` markers; `--check` exits 1 when it is stale.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
from pydantic.fields import FieldInfo

from telli_mcp.config import CLI_FLAGS, Settings, env_var

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from telli_mcp.server.registry import ToolRegistry

__all__ = [
    "README",
    "WRITE_COMMAND",
    "config_table",
    "main",
    "render_readme",
    "tool_catalogue",
    "tool_table",
]

README = Path(__file__).resolve().parent.parent / "README.md"
WRITE_COMMAND = ".venv/bin/python -m telli_mcp.docs --write"
SANDBOX_TOOLSET = "sandbox"
_NONE = "—"
DESCRIPTION = "Generate the README's configuration and tool tables from the code."


def _cell(text: str) -> str:
    """One table cell: a single line, with pipes escaped so they do not split the cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _first_line(text: str | None) -> str:
    """The first paragraph as one line: docstrings wrap their opening sentence at 120 characters."""
    paragraph = inspect.cleandoc(text or "").split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def _default(value: object) -> str:
    if value is None:
        return _NONE
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    if isinstance(value, tuple):
        return f"`{','.join(str(item) for item in value)}`"
    return f"`{value}`"


def _meaning(field: FieldInfo) -> str:
    text = field.description or ""
    choices = field.annotation
    if isinstance(choices, type) and issubclass(choices, Enum):
        text += " One of " + ", ".join(f"`{choice.value}`" for choice in choices) + "."
    return _cell(text)


def config_table() -> str:
    """The configuration table: one row per setting, in declaration order."""
    rows = ["| Variable | CLI flag | Default | Meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        flag = f"`{CLI_FLAGS[name]}`" if name in CLI_FLAGS else _NONE
        rows.append(f"| `{env_var(name)}` | {flag} | {_default(field.get_default())} | {_meaning(field)} |")
    return "\n".join(rows)


@dataclass(frozen=True)
class ToolRow:
    name: str
    toolset: str
    risk: str
    title: str
    summary: str


@dataclass(frozen=True)
class ResourceRow:
    uri: str
    title: str
    mime_type: str
    summary: str


@dataclass(frozen=True)
class PromptRow:
    name: str
    title: str
    arguments: tuple[str, ...]
    summary: str


@dataclass(frozen=True)
class Catalogue:
    tools: tuple[ToolRow, ...]
    resources: tuple[ResourceRow, ...]
    prompts: tuple[PromptRow, ...]


def _catalogue_server(*, sandbox: bool) -> MCPServer[Any]:
    from telli_mcp.backend import open_backend
    from telli_mcp.server import build_server

    # model_construct: the defaults, untouched by the developer's TELLI_* environment, so the README
    # comes out the same on every machine.
    backend = open_backend(Settings.model_construct(toolsets=("all",), sandbox=sandbox), sandbox_speed=0)
    return build_server(backend.settings, client_factory=backend.client_factory(), sandbox=backend.sandbox,
                        now=backend.now)


def _registry(server: MCPServer[Any]) -> ToolRegistry:
    registry: ToolRegistry = server.telli_registry  # type: ignore[attr-defined]
    return registry


async def _tool_rows(server: MCPServer[Any], *, only_toolset: str | None) -> list[ToolRow]:
    listed = {tool.name: tool for tool in await server.list_tools()}
    rows = []
    for spec in _registry(server).specs:
        if only_toolset is not None and spec.toolset != only_toolset:
            continue
        tool = listed[spec.name]
        toolset = "sandbox only" if spec.toolset == SANDBOX_TOOLSET else spec.toolset
        rows.append(ToolRow(spec.name, toolset, str(spec.risk), spec.title, _first_line(tool.description)))
    return rows


async def _resource_rows(server: MCPServer[Any]) -> list[ResourceRow]:
    rows = [ResourceRow(t.uri_template, t.title or t.name, t.mime_type or "", _first_line(t.description))
            for t in await server.list_resource_templates()]
    rows += [ResourceRow(str(r.uri), r.title or r.name, r.mime_type or "", _first_line(r.description))
             for r in await server.list_resources()]
    return rows


async def _prompt_rows(server: MCPServer[Any]) -> list[PromptRow]:
    return [
        PromptRow(p.name, p.title or p.name, tuple(a.name if a.required else f"{a.name}?" for a in p.arguments or []),
                  _first_line(p.description))
        for p in await server.list_prompts()
    ]


async def _catalogue() -> Catalogue:
    server = _catalogue_server(sandbox=False)
    sandboxed = _catalogue_server(sandbox=True)
    tools = await _tool_rows(server, only_toolset=None)
    tools += await _tool_rows(sandboxed, only_toolset=SANDBOX_TOOLSET)
    return Catalogue(tuple(tools), tuple(await _resource_rows(server)), tuple(await _prompt_rows(server)))


def tool_catalogue() -> Catalogue:
    """Every tool the registry knows (all toolsets, plus sandbox-only tools), the resources and the prompts."""
    return anyio.run(_catalogue)


def tool_table(catalogue: Catalogue | None = None) -> str:
    """The tool, resource and prompt tables as markdown."""
    catalogue = catalogue or tool_catalogue()
    lines = ["| Tool | Toolset | Risk | Title | What it does |", "|---|---|---|---|---|"]
    lines += [f"| `{t.name}` | {t.toolset} | {t.risk} | {_cell(t.title)} | {_cell(t.summary)} |"
              for t in catalogue.tools]
    lines += ["", "| Resource | Title | Type | What it holds |", "|---|---|---|---|"]
    lines += [f"| `{r.uri}` | {_cell(r.title)} | {r.mime_type} | {_cell(r.summary)} |" for r in catalogue.resources]
    lines += ["", "| Prompt | Title | Arguments (`?` = optional) | What it does |", "|---|---|---|---|"]
    lines += [f"| `{p.name}` | {_cell(p.title)} | {', '.join(f'`{a}`' for a in p.arguments) or _NONE} | "
              f"{_cell(p.summary)} |" for p in catalogue.prompts]
    return "\n".join(lines)


def _replace_between(text: str, name: str, content: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, found_start, rest = text.partition(start)
    _old, found_end, tail = rest.partition(end)
    if not found_start or not found_end:
        raise ValueError(f"README lacks the markers {start} ... {end}")
    notice = "<!-- generated by `python -m telli_mcp.docs --write`; do not edit by hand -->"
    return f"{head}{start}\n{notice}\n\n{content}\n\n{end}{tail}"


def render_readme(text: str) -> str:
    """`text` (the README) with both generated blocks brought up to date."""
    text = _replace_between(text, "config-table", config_table())
    return _replace_between(text, "tool-table", tool_table())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m telli_mcp.docs", description=DESCRIPTION)
    parser.add_argument("--readme", type=Path, default=README, help="README to update (default: the repository's)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rewrite the generated tables in the README")
    action.add_argument("--check", action="store_true", help="exit 1 if the README's tables are stale")
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        print(config_table() + "\n\n" + tool_table())
        return 0
    current = args.readme.read_text(encoding="utf-8")
    updated = render_readme(current)
    if updated == current:
        return 0
    if args.write:
        args.readme.write_text(updated, encoding="utf-8")
        return 0
    print(f"{args.readme} is stale: run `{WRITE_COMMAND}`", file=sys.stderr)
    return 1

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
