"""Generate the README's configuration and tool tables from the code, so they cannot drift from it.

The configuration table comes from the `Settings` model (environment variable, CLI flag, default) and its
attribute docstrings, read from the source here rather than by pydantic at every start; the tool table from the
toolsets' static data (`telli_mcp.server.offer_for`, no server is built): every tool, resource and prompt of a
sandbox server with every toolset on (the sandbox-only tools come last).
`python -m telli_mcp.docs --write` rewrites the README between the `<!-- config-table:start -->` /
`<!-- tool-table:start -->` markers, the tools' input and output schemas the server publishes
(`telli_mcp/server/tool_schemas.json`, see `telli_mcp.server.tool_schemas`), and the toolsets' declarations it
lists them from (`telli_mcp/server/declarations.json`, see `telli_mcp.server.declarations`); `--check` exits 1 when
any is stale.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic.fields import FieldInfo

from telli_mcp.config import CLI_FLAGS, Settings, env_var
from telli_mcp.toolsets import SANDBOX

if TYPE_CHECKING:
    from telli_mcp.server import Offer

__all__ = [
    "README",
    "WRITE_COMMAND",
    "attribute_docstrings",
    "config_table",
    "main",
    "render_readme",
    "tool_catalogue",
    "tool_table",
]

README = Path(__file__).resolve().parent.parent / "README.md"
WRITE_COMMAND = ".venv/bin/python -m telli_mcp.docs --write"
_NONE = "—"
DESCRIPTION = "Generate the README's configuration and tool tables, and the tools' schemas, from the code."


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


def attribute_docstrings(cls: type) -> dict[str, str]:
    """Each attribute's docstring (the string literal right below its annotated assignment) in `cls`'s source."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0]
    assert isinstance(body, ast.ClassDef)
    docs: dict[str, str] = {}
    for statement, following in zip(body.body, body.body[1:], strict=False):
        if not (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)):
            continue
        if isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant):
            docs[statement.target.id] = inspect.cleandoc(str(following.value.value))
    return docs


def _meaning(field: FieldInfo, docstring: str) -> str:
    text = field.description or docstring
    choices = field.annotation
    if isinstance(choices, type) and issubclass(choices, Enum):
        text += " One of " + ", ".join(f"`{choice.value}`" for choice in choices) + "."
    return _cell(text)


def config_table() -> str:
    """The configuration table: one row per setting, in declaration order."""
    rows = ["| Variable | CLI flag | Default | Meaning |", "|---|---|---|---|"]
    docstrings = attribute_docstrings(Settings)
    for name, field in Settings.model_fields.items():
        flag = f"`{CLI_FLAGS[name]}`" if name in CLI_FLAGS else _NONE
        meaning = _meaning(field, docstrings.get(name, ""))
        rows.append(f"| `{env_var(name)}` | {flag} | {_default(field.get_default())} | {meaning} |")
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


def _tool_rows(offer: Offer) -> list[ToolRow]:
    return [
        ToolRow(
            tool.name,
            "sandbox only" if tool.spec.toolset == SANDBOX else tool.spec.toolset,
            str(tool.spec.risk),
            tool.spec.title,
            _first_line(tool.description),
        )
        for tool in offer.tools
    ]


def _resource_rows(offer: Offer) -> list[ResourceRow]:
    # Templates first, as clients list them (resources/templates/list, then resources/list).
    ordered = [r for r in offer.resources if r.is_template] + [r for r in offer.resources if not r.is_template]
    return [ResourceRow(r.uri, r.title, r.mime_type, _first_line(r.description)) for r in ordered]


def _prompt_rows(offer: Offer) -> list[PromptRow]:
    return [
        PromptRow(
            p.name,
            p.title,
            tuple(a.name if a.required else f"{a.name}?" for a in p.arguments),
            _first_line(p.description),
        )
        for p in offer.prompts
    ]


def tool_catalogue() -> Catalogue:
    """Every tool (the sandbox-only ones last), resource and prompt of a sandbox server with every toolset on."""
    from telli_mcp.server import SURFACES, offer_for

    # model_construct: the defaults, untouched by the developer's TELLI_* environment, so the README comes out
    # the same on every machine. From the toolsets' modules: the code, which `declarations.json` must match.
    offer = offer_for(Settings.model_construct(toolsets=("all",)), sandbox=True, surfaces=SURFACES)
    return Catalogue(tuple(_tool_rows(offer)), tuple(_resource_rows(offer)), tuple(_prompt_rows(offer)))


def tool_table(catalogue: Catalogue | None = None) -> str:
    """The tool, resource and prompt tables as markdown."""
    catalogue = catalogue or tool_catalogue()
    lines = ["| Tool | Toolset | Risk | Title | What it does |", "|---|---|---|---|---|"]
    lines += [
        f"| `{t.name}` | {t.toolset} | {t.risk} | {_cell(t.title)} | {_cell(t.summary)} |" for t in catalogue.tools
    ]
    lines += ["", "| Resource | Title | Type | What it holds |", "|---|---|---|---|"]
    lines += [f"| `{r.uri}` | {_cell(r.title)} | {r.mime_type} | {_cell(r.summary)} |" for r in catalogue.resources]
    lines += ["", "| Prompt | Title | Arguments (`?` = optional) | What it does |", "|---|---|---|---|"]
    lines += [
        f"| `{p.name}` | {_cell(p.title)} | {', '.join(f'`{a}`' for a in p.arguments) or _NONE} | {_cell(p.summary)} |"
        for p in catalogue.prompts
    ]
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


def _generated(readme: Path) -> list[tuple[Path, str]]:
    """Each generated file with the content it should have: the README's tables, the tools' schemas, the
    toolsets' declarations."""
    from telli_mcp.server import DECLARATIONS_FILE, SCHEMAS_FILE, catalogue_text, declarations_text

    return [
        (readme, render_readme(readme.read_text(encoding="utf-8"))),
        (SCHEMAS_FILE, catalogue_text()),
        (DECLARATIONS_FILE, declarations_text()),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m telli_mcp.docs", description=DESCRIPTION)
    parser.add_argument("--readme", type=Path, default=README, help="README to update (default: the repository's)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="rewrite the generated tables and schemas")
    action.add_argument("--check", action="store_true", help="exit 1 if any of them is stale")
    args = parser.parse_args(argv)
    if not (args.write or args.check):
        print(config_table() + "\n\n" + tool_table())
        return 0
    stale = [(path, text) for path, text in _generated(args.readme) if _read(path) != text]
    if args.write:
        for path, text in stale:
            path.write_text(text, encoding="utf-8")
        return 0
    for path, _text in stale:
        print(f"{path} is stale: run `{WRITE_COMMAND}`", file=sys.stderr)
    return 1 if stale else 0


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
