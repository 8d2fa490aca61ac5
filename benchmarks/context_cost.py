"""Context cost: how much of a model's context the tool list takes, telli-mcp vs a generic OpenAPI bridge.

    .venv/bin/python benchmarks/context_cost.py     # needs benchmarks/.venv-fastmcp (run_all.sh makes it)

Lists the tools of `telli-mcp` (default toolsets, and `--toolsets all`) and of `FastMCP.from_openapi` over
`telli-openapi.json` (the same 33 telli endpoints the simulator serves), each over stdio in raw JSON-RPC.
"wire" is the whole tools/list entry of every tool as sent (with output schemas, annotations, _meta);
"model" is what MCP clients put in the model's context: name, description and input schema. Tokens are
bytes/4 and, when the fastmcp venv has tiktoken, counts by cl100k_base. That is an OpenAI tokenizer: the model
reading the list (Claude, say) tokenizes differently, so the counts compare the servers, not any model's bill.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import TELLI_MCP, banner, clean_env, list_tools

HERE = Path(__file__).resolve().parent
FASTMCP_PYTHON = HERE / ".venv-fastmcp" / "bin" / "python"
SIDE = str(HERE / "fastmcp_side.py")
SPEC = str(HERE / "telli-openapi.json")
GENERIC = "generic: FastMCP.from_openapi (33 endpoints)"
VARIANTS: dict[str, list[str]] = {
    "telli-mcp, default toolsets": [TELLI_MCP],
    "telli-mcp, --toolsets all": [TELLI_MCP, "--toolsets", "all"],
    GENERIC: [str(FASTMCP_PYTHON), SIDE, "serve", SPEC],
}
MODEL_FIELDS = ("name", "description", "inputSchema")
TOKENIZER = "cl100k_base, an OpenAI tokenizer; Claude's and other models' counts differ"


@dataclass(frozen=True)
class Cost:
    tools: int
    wire: str
    model: str
    largest: list[tuple[int, str]]
    """(model bytes, tool name) of the three biggest tools: where the context goes."""


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def cost_of(tools: list[dict[str, Any]]) -> Cost:
    model_view = [{key: tool[key] for key in MODEL_FIELDS if key in tool} for tool in tools]
    largest = sorted(((size(compact(view)), view["name"]) for view in model_view), reverse=True)[:3]
    return Cost(len(tools), compact(tools), compact(model_view), largest)


def cl100k_counts(texts: list[str]) -> list[int] | None:
    """Token counts from the fastmcp venv's tiktoken; None when it is not available."""
    try:
        done = subprocess.run(
            [str(FASTMCP_PYTHON), SIDE, "tokens"],
            input=compact(texts).encode(),
            capture_output=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    counts: list[int] = json.loads(done.stdout)
    return counts


def size(text: str) -> int:
    return len(text.encode())


def report(costs: dict[str, Cost]) -> None:
    texts = [text for cost in costs.values() for text in (cost.wire, cost.model)]
    counts = cl100k_counts(texts)
    generic = costs[GENERIC]
    print(
        f"{'server':46s} {'tools':>5s} {'wire B':>8s} {'model B':>8s} {'model tok~B/4':>13s} "
        f"{'model tok*':>10s} {'B/tool':>7s} {'generic/this':>12s}"
    )
    for index, (name, cost) in enumerate(costs.items()):
        tokens = "n/a" if counts is None else str(counts[2 * index + 1])
        ratio = size(generic.model) / size(cost.model)
        print(
            f"{name:46s} {cost.tools:5d} {size(cost.wire):8d} {size(cost.model):8d} "
            f"{size(cost.model) // 4:13d} {tokens:>10s} {size(cost.model) // cost.tools:7d} {ratio:11.2f}x"
        )
    for name, cost in costs.items():
        print(f"largest tools ({name}): " + ", ".join(f"{tool} {n} B" for n, tool in cost.largest))
    if counts is not None:
        wire_tokens = ", ".join(f"{name}: {counts[2 * i]}" for i, name in enumerate(costs))
        print(f"wire tokens*: {wire_tokens}")
    print(f"* tokens ({TOKENIZER}); 'tok~B/4' is bytes / 4")


def main() -> int:
    banner("context cost of tools/list: telli-mcp vs a generic OpenAPI-to-MCP bridge")
    if not FASTMCP_PYTHON.exists():
        print(f"missing {FASTMCP_PYTHON}: run benchmarks/run_all.sh once (it creates the fastmcp venv)")
        return 2
    costs = {name: cost_of(list_tools(command, clean_env())) for name, command in VARIANTS.items()}
    report(costs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
