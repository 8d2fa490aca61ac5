"""Regenerate the parts of the distribution manifests that are derived from the code.

    .venv/bin/python manifests/sync.py          # rewrite the files in place
    .venv/bin/python manifests/sync.py --check  # exit 1 (and say what) when a file is stale

Derived parts: the version everywhere (manifests/server.json, manifests/mcpb/manifest.json and the pin in
manifests/mcpb/pyproject.toml) and the bundle manifest's `tools` and `prompts`, which list exactly what the
server registers in its default configuration. Everything else in those files is written by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio

HERE = Path(__file__).resolve().parent
SERVER_JSON = HERE / "server.json"
BUNDLE_MANIFEST = HERE / "mcpb" / "manifest.json"
BUNDLE_PYPROJECT = HERE / "mcpb" / "pyproject.toml"


def _placeholder(argument: str) -> str:
    # mcpb substitutes ${arguments.NAME} in a prompt's text with what the user typed.
    return "${arguments." + argument + "}"


SAMPLES = {
    "call_id": "00000000-0000-4000-8000-00000000ca11",
    "agent_id": "00000000-0000-4000-8000-00000000a9e7",
    "days": "366",
    "source": "/sample/leads-source.csv",
}
"""Valid stand-ins the server renders a prompt with (it refuses anything that is not an id where it wants one);
each is then replaced by the bundle's placeholder. Each must occur in the text only where its argument goes."""


async def default_catalogue() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The tools and prompts of the default server, in the bundle manifest's shape."""
    from telli_mcp.client import TelliClient
    from telli_mcp.config import Settings
    from telli_mcp.server import build_server
    from telli_mcp.simulator import TEST_API_KEY, TelliSimulator

    sim = TelliSimulator(api_keys=(TEST_API_KEY,))
    tools: list[dict[str, Any]] = []
    prompts: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as data_dir:  # listing never writes a ledger, but keep it off ~ anyway
        server = build_server(
            Settings(api_key=TEST_API_KEY, data_dir=data_dir),
            client_factory=lambda key: TelliClient(key, transport=sim.transport()),
        )
        await _collect(server, tools, prompts)
    return tools, prompts


async def _collect(server: Any, tools: list[dict[str, Any]], prompts: list[dict[str, Any]]) -> None:
    from mcp import Client
    from mcp.types import TextContent

    async with Client(server, cache=None) as client:
        for tool in (await client.list_tools()).tools:
            # The first paragraph is the summary; the rest is guidance meant for the model.
            summary = (tool.description or tool.title or tool.name).split("\n\n")[0].replace("\n", " ")
            tools.append({"name": tool.name, "description": summary})
        for prompt in (await client.list_prompts()).prompts:
            arguments = [argument.name for argument in prompt.arguments or []]
            rendered = await client.get_prompt(prompt.name, {name: SAMPLES[name] for name in arguments})
            text = "\n\n".join(m.content.text for m in rendered.messages if isinstance(m.content, TextContent))
            for name in arguments:
                text = text.replace(SAMPLES[name], _placeholder(name))
            entry: dict[str, Any] = {"name": prompt.name, "description": prompt.description or prompt.title or ""}
            if arguments:
                entry["arguments"] = arguments
            entry["text"] = text
            prompts.append(entry)


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render() -> dict[Path, str]:
    """The derived files as they should be on disk."""
    from telli_mcp._version import __version__ as version

    tools, prompts = anyio.run(default_catalogue)

    server = json.loads(SERVER_JSON.read_text(encoding="utf-8"))
    server["version"] = version
    for package in server.get("packages", []):
        package["version"] = version

    manifest = json.loads(BUNDLE_MANIFEST.read_text(encoding="utf-8"))
    manifest["version"] = version
    manifest["tools"] = tools
    manifest["prompts"] = prompts

    pyproject = BUNDLE_PYPROJECT.read_text(encoding="utf-8")
    pyproject = re.sub(r'(?m)^version = "[^"]*"$', f'version = "{version}"', pyproject)
    pyproject = re.sub(r'"telli-mcp==[^"]*"', f'"telli-mcp=={version}"', pyproject)

    return {SERVER_JSON: _dump(server), BUNDLE_MANIFEST: _dump(manifest), BUNDLE_PYPROJECT: pyproject}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    args = parser.parse_args(argv)
    # The manifests describe the default configuration, whatever this shell has set.
    for name in [name for name in os.environ if name.startswith("TELLI_")]:
        del os.environ[name]
    rendered = render()
    stale = [path for path, text in rendered.items() if path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(HERE.parent)} (run: python manifests/sync.py)", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(rendered[path], encoding="utf-8")
        print(f"updated {path.relative_to(HERE.parent)}")
    if not stale:
        print("manifests already in sync")
    return 0


if __name__ == "__main__":
    sys.exit(main())
