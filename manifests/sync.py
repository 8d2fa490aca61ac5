"""Regenerate the parts of the distribution manifests that are derived from the code.

    .venv/bin/python manifests/sync.py          # rewrite the files in place
    .venv/bin/python manifests/sync.py --check  # exit 1 (and say what) when a file is stale

Derived parts: the version everywhere (manifests/server.json, manifests/mcpb/manifest.json and the pin in
manifests/mcpb/pyproject.toml) and the bundle manifest's `tools` and `prompts`, which list exactly what the
server offers in its default configuration, read from the toolsets' static data (no server is built; each
prompt is rendered by calling its function with `SAMPLES`). Everything else in those files is written by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

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


def default_catalogue() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The tools and prompts of the default server, in the bundle manifest's shape."""
    from telli_mcp.config import Settings
    from telli_mcp.server import SURFACES, offer_for

    offer = offer_for(Settings.model_construct(), surfaces=SURFACES)
    # The first paragraph is the summary; the rest is guidance meant for the model.
    tools = [{"name": t.name, "description": t.description.split("\n\n")[0].replace("\n", " ")} for t in offer.tools]
    prompts = []
    for prompt in offer.prompts:
        arguments = [argument.name for argument in prompt.arguments]
        entry: dict[str, Any] = {"name": prompt.name, "description": prompt.description}
        if arguments:
            entry["arguments"] = arguments
        rendered = prompt.load().handler(**{name: SAMPLES[name] for name in arguments})
        entry["text"] = _prompt_text(rendered, arguments)
        prompts.append(entry)
    return tools, prompts


def _prompt_text(messages: Any, arguments: list[str]) -> str:
    """The rendered messages as one text, each sample value replaced by the bundle's placeholder."""
    from mcp.types import TextContent

    text = "\n\n".join(m.content.text for m in messages if isinstance(m.content, TextContent))
    for name in arguments:
        text = text.replace(SAMPLES[name], _placeholder(name))
    return text


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render() -> dict[Path, str]:
    """The derived files as they should be on disk."""
    from telli_mcp._version import __version__ as version

    tools, prompts = default_catalogue()

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
